using Tern.Models;
using Tern.Quantization;

namespace Tern.Cuda.Inference;

/// <summary>
/// A Q8_0 matrix on the device (the head with <c>--head-type q8_0</c>, or a Q8_0 tensor of the file): the 34-byte
/// blocks are split on upload into int8 weights, rows of 16-byte-aligned values, and their fp16 scales, half the bytes
/// of an F16 head. infer_q8.cu quantizes the activations to Q8_0 as the CPU engine does and multiplies block by block
/// with integer dot products, so the products equal the CPU's up to the order of the float sums.
/// </summary>
internal sealed class DeviceQ8Matrix : DeviceMatrix
{
    private readonly DeviceBuffer<sbyte> _values;
    private readonly DeviceBuffer<ushort> _scales;
    private readonly DeviceBuffer<sbyte> _input;
    private readonly DeviceBuffer<float> _inputScales;

    private DeviceQ8Matrix(string name, int rows, int columns, DeviceBuffer<sbyte> values, DeviceBuffer<ushort> scales, DeviceBuffer<sbyte> input, DeviceBuffer<float> inputScales)
        : base(name, rows, columns)
    {
        _values = values;
        _scales = scales;
        _input = input;
        _inputScales = inputScales;
    }

    public override long DeviceBytes => _values.ByteLength + _scales.ByteLength;

    public override string Kind => "Q8_0";

    /// <summary>The device copy of a host Q8_0 matrix, uploaded a slice of rows at a time.</summary>
    public static DeviceQ8Matrix Upload(CudaContext context, Q8_0WeightMatrix host)
    {
        int rows = host.Rows, columns = host.Columns, blocks = columns / Q8_0Format.BlockSize;
        var made = new OwnedResources();
        try
        {
            var values = made.Add(new DeviceBuffer<sbyte>(context, (long)rows * columns));
            var scales = made.Add(new DeviceBuffer<ushort>(context, (long)rows * blocks));
            const int rowsPerSlice = 1024;
            var sliceValues = new sbyte[rowsPerSlice * columns];
            var sliceScales = new ushort[rowsPerSlice * blocks];
            for (int r0 = 0; r0 < rows; r0 += rowsPerSlice)
            {
                int n = Math.Min(rowsPerSlice, rows - r0);
                Split(host.Bytes.Rows(r0, n), sliceValues.AsSpan(0, n * columns), sliceScales.AsSpan(0, n * blocks));
                values.Upload(sliceValues.AsSpan(0, n * columns), (long)r0 * columns);
                scales.Upload(sliceScales.AsSpan(0, n * blocks), (long)r0 * blocks);
            }

            var input = made.Add(new DeviceBuffer<sbyte>(context, (long)CudaInferenceKernels.MatvecTokens * columns));
            var inputScales = made.Add(new DeviceBuffer<float>(context, (long)CudaInferenceKernels.MatvecTokens * blocks));
            return new DeviceQ8Matrix(host.Name, rows, columns, values, scales, input, inputScales);
        }
        catch
        {
            made.Dispose();
            throw;
        }
    }

    /// <summary>Q8_0 blocks (fp16 scale, then 32 int8) into the values and the scales' bits, block after block.</summary>
    internal static void Split(ReadOnlySpan<byte> q8, Span<sbyte> values, Span<ushort> scales)
    {
        for (int b = 0; b < scales.Length; b++)
        {
            var block = q8.Slice(b * Q8_0Format.BytesPerBlock, Q8_0Format.BytesPerBlock);
            scales[b] = (ushort)(block[0] | (block[1] << 8));
            for (int i = 0; i < Q8_0Format.BlockSize; i++)
                values[(b * Q8_0Format.BlockSize) + i] = (sbyte)block[2 + i];
        }
    }

    public override void Multiply(InferenceWorkspace workspace, MatrixInput input, int tokens, DevicePointer y, bool accumulate)
    {
        int blocks = Columns / Q8_0Format.BlockSize;
        for (int t0 = 0; t0 < tokens; t0 += CudaInferenceKernels.MatvecTokens)
        {
            int n = Math.Min(CudaInferenceKernels.MatvecTokens, tokens - t0);
            var quantize = new KernelArguments();
            quantize.Add(input.Floats + ((long)t0 * Columns * 4));
            quantize.Add(Columns);
            quantize.Add(n);
            quantize.Add(_input.Pointer);
            quantize.Add(_inputScales.Pointer);
            workspace.Kernels.QuantizeQ8.Launch(Dim3.Covering((long)n * blocks, 128), 128, 0, workspace.Stream, ref quantize);

            var arguments = new KernelArguments();
            arguments.Add(_values.Pointer);
            arguments.Add(_scales.Pointer);
            arguments.Add(Rows);
            arguments.Add(Columns);
            arguments.Add(_input.Pointer);
            arguments.Add(_inputScales.Pointer);
            arguments.Add(n);
            arguments.Add(y + ((long)t0 * Rows * 4));
            arguments.Add(Rows);
            arguments.Add(accumulate ? 1 : 0);
            workspace.Kernels.Q8Matvec.Launch(Dim3.Covering((long)Rows * 32, 256), 256, 0, workspace.Stream, ref arguments);
        }
    }

    public override void Dispose()
    {
        _values.Dispose();
        _scales.Dispose();
        _input.Dispose();
        _inputScales.Dispose();
    }
}
