using System.Runtime.InteropServices;
using Tern.Gguf;
using Tern.Kernels;
using Tern.Quantization;
using Tern.Runtime;

namespace Tern.Models;

/// <summary>
/// A BitLinear layer's ternary weights, computed as DESIGN.md defines it: the input is quantized per token to int8
/// (s = 127 / max|x|, round half to even), the integer dot products W̃·q are exact, and y = (W̃·q) · γ / s.
/// Weights with one scale and rows of whole 128-weight blocks compute with <see cref="TernaryCodesDot"/> on 2-bit
/// codes in I2_S's block layout: an I2_S tensor is used in place in the memory-mapped file (its flattened blocks are
/// exactly the rows' blocks), TQ tensors are repacked once at load. Any other tensor (a TQ file whose blocks carry
/// different scales) computes with the scalar loop. All give the same integers.
/// </summary>
public sealed class TernaryWeightMatrix : WeightMatrix, IParallelWork
{
    /// <summary>The quantized tokens of the product being computed, shared by the calling thread's products.</summary>
    [ThreadStatic]
    private static QuantizedTokens? t_tokens;

    private readonly sbyte[]? _values;
    private readonly byte[]? _codes;
    private readonly GgufFile? _file;
    private readonly GgufTensorInfo? _tensor;
    private readonly float[] _blockScales;
    private readonly int _blockSize;

    // The product being computed by the pool's workers.
    private QuantizedTokens? _work;
    private Memory<float> _output;

    public TernaryWeightMatrix(string name, int rows, int columns, TernaryTensor tensor)
        : base(name, rows, columns)
    {
        if (tensor.TryGetUniformScale(out float scale))
        {
            _blockScales = [scale];
            _blockSize = columns;
            if (columns % TernaryCodesDot.BlockWeights == 0)
            {
                _codes = Pack(tensor.Values, rows, columns);
                return;
            }
        }
        else
        {
            // TQ files from other tools may scale each block of 256 on its own; blocks never straddle rows.
            if (columns % tensor.BlockSize != 0)
                throw new InvalidDataException($"tensor '{name}': rows of {columns} do not hold whole scale blocks of {tensor.BlockSize}");
            _blockScales = tensor.BlockScales;
            _blockSize = tensor.BlockSize;
        }

        _values = tensor.Values;
    }

    private TernaryWeightMatrix(string name, int rows, int columns, GgufFile file, GgufTensorInfo tensor, float scale)
        : base(name, rows, columns)
    {
        _file = file;
        _tensor = tensor;
        _blockScales = [scale];
        _blockSize = columns;
    }

    /// <summary>An I2_S tensor whose rows hold whole blocks, computed in place from the map (no copy, no repack).</summary>
    public static TernaryWeightMatrix FromMappedI2S(GgufFile file, GgufTensorInfo tensor, int rows, int columns)
    {
        float scale = I2SFormat.ReadScale(file.GetTensorData(tensor, 0, (int)Math.Min(int.MaxValue, tensor.ByteSize)), tensor.ElementCount);
        return new TernaryWeightMatrix(tensor.Name, rows, columns, file, tensor, scale);
    }

    private bool HasCodes => _codes is not null || _file is not null;

    /// <summary>The codes of rows [start, end), one row after another.</summary>
    private ReadOnlySpan<byte> CodeRows(int start, int end)
    {
        int rowBytes = Columns / 4;
        return _codes is not null
            ? _codes.AsSpan(start * rowBytes, (end - start) * rowBytes)
            : _file!.GetTensorData(_tensor!, (long)start * rowBytes, (end - start) * rowBytes);
    }

    private static byte[] Pack(sbyte[] values, int rows, int columns)
    {
        int rowBytes = columns / 4;
        var codes = new byte[(long)rows * rowBytes];
        for (int r = 0; r < rows; r++)
            I2SFormat.EncodeCodes(values.AsSpan(r * columns, columns), codes.AsSpan(r * rowBytes, rowBytes));

        return codes;
    }

    public override void Multiply(ReadOnlySpan<float> x, Span<float> y)
    {
        if (!HasCodes)
        {
            MultiplyScalar(x, y);
            return;
        }

        var tokens = Quantize(x, 1);
        if (!Parallel)
        {
            ComputeRows(tokens, y, 0, Rows);
            return;
        }

        var output = Output(Rows);
        Run(tokens, output);
        output.Span.CopyTo(y);
    }

    public override void Multiply(ReadOnlyMemory<float> x, Memory<float> y, int tokens)
    {
        if (!HasCodes)
        {
            base.Multiply(x, y, tokens);
            return;
        }

        var quantized = Quantize(x.Span, tokens);
        if (Parallel)
            Run(quantized, y);
        else
            ComputeRows(quantized, y.Span, 0, Rows);
    }

    private QuantizedTokens Quantize(ReadOnlySpan<float> x, int tokens)
    {
        if (x.Length < (long)tokens * Columns)
            throw new ArgumentException($"tensor '{Name}': {x.Length} inputs do not hold {tokens} tokens of {Columns}", nameof(x));
        var quantized = t_tokens ??= new QuantizedTokens();
        quantized.Quantize(x, tokens, Columns, _blockScales[0]);
        return quantized;
    }

    private void Run(QuantizedTokens tokens, Memory<float> y)
    {
        _work = tokens;
        _output = y;
        try
        {
            Pool!.Run(this);
        }
        finally
        {
            _work = null;
            _output = default;
        }
    }

    void IParallelWork.Execute(int worker, int workers)
    {
        var (start, end) = WorkerPool.Split(Rows, worker, workers);
        ComputeRows(_work!, _output.Span, start, end);
    }

    /// <summary>
    /// Rows [start, end) of every token's product into y (token t's outputs at t·Rows): the kernel's integer sums
    /// are written where their floats go and converted in place, so no buffer is needed per product.
    /// </summary>
    private void ComputeRows(QuantizedTokens tokens, Span<float> y, int start, int end)
    {
        if (start >= end)
            return;
        var sums = MemoryMarshal.Cast<float, int>(y);
        TernaryCodesDot.Multiply(CodeRows(start, end), Columns, tokens.Values, tokens.Count, sums[start..], Rows);
        for (int t = 0; t < tokens.Count; t++)
        {
            int sumQ = tokens.Sums[t];
            float factor = tokens.Factors[t];
            var row = y.Slice((t * Rows) + start, end - start);
            var rowSums = sums.Slice((t * Rows) + start, end - start);
            for (int r = 0; r < row.Length; r++)
                row[r] = (rowSums[r] - sumQ) * factor;
        }
    }

    [ThreadStatic]
    private static float[]? t_output;

    private static Memory<float> Output(int length)
    {
        if (t_output is null || t_output.Length < length)
            t_output = new float[length];
        return t_output.AsMemory(0, length);
    }

    [ThreadStatic]
    private static sbyte[]? t_scalarActivations;

    /// <summary>Files whose blocks carry their own scales: one weight at a time, block by block.</summary>
    private void MultiplyScalar(ReadOnlySpan<float> x, Span<float> y)
    {
        if (t_scalarActivations is null || t_scalarActivations.Length < Columns)
            t_scalarActivations = new sbyte[Columns];
        var q = t_scalarActivations.AsSpan(0, Columns);
        float s = AbsmaxInt8Quantizer.Quantize(x, q);
        int blocksPerRow = Columns / _blockSize;
        bool uniform = _blockScales.Length == 1;
        for (int r = 0; r < Rows; r++)
        {
            var w = _values!.AsSpan(r * Columns, Columns);
            float sum = 0;
            for (int b = 0; b < blocksPerRow; b++)
            {
                int acc = 0;
                for (int j = b * _blockSize; j < (b + 1) * _blockSize; j++)
                    acc += w[j] * q[j];
                sum += acc * (uniform ? _blockScales[0] : _blockScales[(r * blocksPerRow) + b]);
            }

            y[r] = sum / s;
        }
    }
}
