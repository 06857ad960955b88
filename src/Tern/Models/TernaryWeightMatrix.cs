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
    private readonly sbyte[]? _values;
    private readonly byte[]? _codes;
    private readonly GgufFile? _file;
    private readonly GgufTensorInfo? _tensor;
    private readonly float[] _blockScales;
    private readonly int _blockSize;
    private readonly sbyte[] _q;
    private float[]? _y;
    private int _sumQ;
    private float _rowScale;

    public TernaryWeightMatrix(string name, int rows, int columns, TernaryTensor tensor)
        : base(name, rows, columns)
    {
        _q = new sbyte[columns];
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
        _q = new sbyte[columns];
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

    private ReadOnlySpan<byte> CodeRow(int row)
    {
        int rowBytes = Columns / 4;
        return _codes is not null
            ? _codes.AsSpan(row * rowBytes, rowBytes)
            : _file!.GetTensorData(_tensor!, (long)row * rowBytes, rowBytes);
    }

    private static byte[] Pack(sbyte[] values, int rows, int columns)
    {
        int rowBytes = columns / 4;
        var codes = new byte[(long)rows * rowBytes];
        for (int r = 0; r < rows; r++)
            I2SFormat.EncodeCodes(values.AsSpan(r * columns, columns), codes.AsSpan(r * rowBytes, rowBytes));

        return codes;
    }

    void IParallelWork.Execute(int worker, int workers)
    {
        var (start, end) = WorkerPool.Split(Rows, worker, workers);
        CodeRows(start, end, _y);
    }

    /// <summary>Rows [start, end) of the product into y (indexed by row).</summary>
    private void CodeRows(int start, int end, Span<float> y)
    {
        for (int r = start; r < end; r++)
            y[r] = (TernaryCodesDot.Dot(CodeRow(r), _q) - _sumQ) * _rowScale;
    }

    /// <remarks>Not thread-safe: the quantized input lives in a buffer of the matrix (one session at a time for now).</remarks>
    public override void Multiply(ReadOnlySpan<float> x, Span<float> y)
    {
        var q = _q.AsSpan();
        float s = AbsmaxInt8Quantizer.Quantize(x, q);
        if (HasCodes)
        {
            int sumQ = 0;
            foreach (sbyte v in q)
                sumQ += v;
            _sumQ = sumQ;
            _rowScale = _blockScales[0] / s;
            if (!Parallel)
            {
                CodeRows(0, Rows, y);
                return;
            }

            _y ??= new float[Rows];
            Pool!.Run(this);
            _y.CopyTo(y);
            return;
        }

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
