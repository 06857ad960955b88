using Tern.Gguf;
using Tern.Quantization;

namespace Tern.Cuda.Inference;

/// <summary>
/// A ternary matrix (I2_S, TQ2_0 or TQ1_0 in the file) as 2-bit codes in the layout infer_ternary.cu reads, each row
/// padded with zero weights to a multiple of 64 columns, and its scale (or, for TQ files whose blocks differ, one
/// per block of a row). Up to eight tokens go through ternary_matvec, which reads each weight once for all of them;
/// more (a prompt) unpack the codes to int8 and multiply on the tensor cores through cuBLASLt's int8 product,
/// exact like every other path here.
/// </summary>
internal sealed class DeviceTernaryMatrix : DeviceMatrix
{
    private readonly DeviceBuffer<uint> _codes;
    private readonly DeviceBuffer<float> _scales;
    private readonly int _scaleBlocks;
    private readonly float _uniformScale;

    private DeviceTernaryMatrix(string name, int rows, int columns, DeviceBuffer<uint> codes, DeviceBuffer<float> scales, int scaleBlocks, float uniformScale)
        : base(name, rows, columns)
    {
        _codes = codes;
        _scales = scales;
        _scaleBlocks = scaleBlocks;
        _uniformScale = uniformScale;
    }

    /// <summary>Columns rounded up to whole groups of 64 weights: the row length of the codes and of the int8 input.</summary>
    public static int PaddedColumns(int columns) => (columns + 63) / 64 * 64;

    public int Groups => PaddedColumns(Columns) / 64;

    /// <summary>Whether one scale serves the whole matrix (what the fused decoding kernels take).</summary>
    public bool HasUniformScale => _scaleBlocks == 0;

    public float UniformScale => _uniformScale;

    public DevicePointer Codes => _codes.Pointer;

    public override long DeviceBytes => _codes.ByteLength + _scales.ByteLength;

    public override string Kind => "ternary";

    public static DeviceTernaryMatrix Upload(CudaContext context, GgufFile file, GgufTensorInfo tensor, int rows, int columns) =>
        Create(context, tensor.Name, rows, columns, TernaryCodec.DecodeTernary(tensor.Type, file.GetTensorData(tensor), tensor.ElementCount));

    /// <summary>A matrix of <paramref name="rows"/> × <paramref name="columns"/> ternary values with their scales, row after row.</summary>
    public static DeviceTernaryMatrix Create(CudaContext context, string name, int rows, int columns, TernaryTensor ternary)
    {
        int padded = PaddedColumns(columns);
        uint[] codes = Pack(ternary.Values, rows, columns, padded);
        float[] scales;
        int scaleBlocks;
        if (ternary.TryGetUniformScale(out float scale))
        {
            scales = [scale];
            scaleBlocks = 0;
        }
        else
        {
            if (columns % ternary.BlockSize != 0 || ternary.BlockSize % 64 != 0)
                throw new InvalidDataException($"tensor '{name}': rows of {columns} do not hold whole scale blocks of {ternary.BlockSize}, which the CUDA kernels need");
            scales = ternary.BlockScales;
            scaleBlocks = columns / ternary.BlockSize;
        }

        DeviceBuffer<uint>? codeBuffer = null;
        try
        {
            codeBuffer = new DeviceBuffer<uint>(context, codes.Length);
            codeBuffer.Upload(codes);
            var scaleBuffer = new DeviceBuffer<float>(context, scales.Length);
            scaleBuffer.Upload(scales);
            return new DeviceTernaryMatrix(name, rows, columns, codeBuffer, scaleBuffer, scaleBlocks, scale);
        }
        catch
        {
            codeBuffer?.Dispose();
            throw;
        }
    }

    /// <summary>Weight w at column c of a row becomes code w + 1 in word c / 16, byte c % 4, bits 2·((c % 16) / 4).</summary>
    internal static uint[] Pack(sbyte[] values, int rows, int columns, int padded)
    {
        int wordsPerRow = padded / 16;
        var codes = new uint[(long)rows * wordsPerRow];
        Parallel.For(0, rows, r =>
        {
            var row = values.AsSpan(r * columns, columns);
            var words = codes.AsSpan(r * wordsPerRow, wordsPerRow);
            for (int w = 0; w < wordsPerRow; w++)
            {
                uint word = 0;
                for (int k = 0; k < 16; k++)
                {
                    int c = (w * 16) + k;
                    uint code = c < columns ? (uint)(row[c] + 1) : 1u;
                    word |= code << ((8 * (k % 4)) + (2 * (k / 4)));
                }
                words[w] = word;
            }
        });

        return codes;
    }

    public override void Multiply(InferenceWorkspace workspace, MatrixInput input, int tokens, DevicePointer y, bool accumulate)
    {
        if (input.QuantizedStride != Groups * 64)
            throw new InvalidOperationException($"tensor '{Name}': the int8 input has rows of {input.QuantizedStride}, the codes {Groups * 64}");
        if (tokens > CudaInferenceKernels.MatvecTokens && _scaleBlocks == 0 && workspace.TryIntegerProduct(this, _codes.Pointer, input, tokens, _uniformScale, y, accumulate))
            return;
        for (int t0 = 0; t0 < tokens; t0 += CudaInferenceKernels.MatvecTokens)
        {
            int n = Math.Min(CudaInferenceKernels.MatvecTokens, tokens - t0);
            var arguments = new KernelArguments();
            arguments.Add(_codes.Pointer);
            arguments.Add(Rows);
            arguments.Add(Groups);
            arguments.Add(_scales.Pointer);
            arguments.Add(_scaleBlocks);
            arguments.Add(input.Quantized + ((long)t0 * input.QuantizedStride));
            arguments.Add(input.Scales + (t0 * 4L));
            arguments.Add(n);
            arguments.Add(y + ((long)t0 * Rows * 4));
            arguments.Add(Rows);
            arguments.Add(accumulate ? 1 : 0);
            workspace.Kernels.TernaryMatvec.Launch(Dim3.Covering((long)Rows * 32, 256), 256, 0, workspace.Stream, ref arguments);
        }
    }

    public override void Dispose()
    {
        _codes.Dispose();
        _scales.Dispose();
    }
}
