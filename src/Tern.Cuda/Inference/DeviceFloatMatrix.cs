using System.Runtime.InteropServices;
using Tern.Gguf;
using Tern.Models;

namespace Tern.Cuda.Inference;

/// <summary>
/// A matrix that is not ternary (the output head above all) in float32, float16 or bfloat16 on the device, computed
/// by float_matvec with float activations. F32, F16 and BF16 tensors are copied as stored (the products equal the
/// CPU's up to the order of the sums); other types but Q8_0 (<see cref="DeviceQ8Matrix"/>), such as Q6_K, are decoded by
/// the host matrix and stored as F16.
/// </summary>
internal sealed class DeviceFloatMatrix : DeviceMatrix
{
    private readonly DeviceBuffer<byte> _weights;
    private readonly int _kind;

    private DeviceFloatMatrix(string name, int rows, int columns, DeviceBuffer<byte> weights, int kind)
        : base(name, rows, columns)
    {
        _weights = weights;
        _kind = kind;
    }

    public override long DeviceBytes => _weights.ByteLength;

    public override string Kind => _kind switch { 0 => "F32", 1 => "F16", _ => "BF16" };

    /// <param name="stored">The tensor as the file stores it, when <paramref name="host"/> computes with exactly those values; null otherwise.</param>
    public static DeviceFloatMatrix Upload(CudaContext context, GgufFile file, GgufTensorInfo? stored, WeightMatrix host)
    {
        int rows = host.Rows, columns = host.Columns;
        if (stored is { Type: GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 } t)
        {
            int kind = t.Type switch { GgmlType.F32 => 0, GgmlType.F16 => 1, _ => 2 };
            var buffer = new DeviceBuffer<byte>(context, t.ByteSize);
            try
            {
                // In slices: the map's spans are limited to 2 GiB.
                const int slice = 1 << 30;
                for (long offset = 0; offset < t.ByteSize; offset += slice)
                    buffer.Upload(file.GetTensorData(t, offset, (int)Math.Min(slice, t.ByteSize - offset)), offset);
                return new DeviceFloatMatrix(host.Name, rows, columns, buffer, kind);
            }
            catch
            {
                buffer.Dispose();
                throw;
            }
        }

        var halves = new DeviceBuffer<byte>(context, (long)rows * columns * 2);
        try
        {
            const int rowsPerSlice = 256;
            var floats = new float[rowsPerSlice * columns];
            var half = new Half[rowsPerSlice * columns];
            for (int r0 = 0; r0 < rows; r0 += rowsPerSlice)
            {
                int n = Math.Min(rowsPerSlice, rows - r0);
                for (int r = 0; r < n; r++)
                    host.CopyRow(r0 + r, floats.AsSpan(r * columns, columns));
                System.Numerics.Tensors.TensorPrimitives.ConvertToHalf(floats.AsSpan(0, n * columns), half.AsSpan(0, n * columns));
                halves.Upload(MemoryMarshal.AsBytes(half.AsSpan(0, n * columns)), (long)r0 * columns * 2);
            }
            return new DeviceFloatMatrix(host.Name, rows, columns, halves, 1);
        }
        catch
        {
            halves.Dispose();
            throw;
        }
    }

    /// <summary>A matrix from raw rows: kind 0 float32, 1 float16, 2 bfloat16 (the device checks' entry).</summary>
    internal static DeviceFloatMatrix Create(CudaContext context, string name, int rows, int columns, ReadOnlySpan<byte> raw, int kind)
    {
        var buffer = new DeviceBuffer<byte>(context, raw.Length);
        buffer.Upload(raw);
        return new DeviceFloatMatrix(name, rows, columns, buffer, kind);
    }

    public override void Multiply(InferenceWorkspace workspace, MatrixInput input, int tokens, DevicePointer y, bool accumulate)
    {
        for (int t0 = 0; t0 < tokens; t0 += CudaInferenceKernels.MatvecTokens)
        {
            int n = Math.Min(CudaInferenceKernels.MatvecTokens, tokens - t0);
            var arguments = new KernelArguments();
            arguments.Add(_weights.Pointer);
            arguments.Add(_kind);
            arguments.Add(Rows);
            arguments.Add(Columns);
            arguments.Add(input.Floats + ((long)t0 * Columns * 4));
            arguments.Add(n);
            arguments.Add(y + ((long)t0 * Rows * 4));
            arguments.Add(Rows);
            arguments.Add(accumulate ? 1 : 0);
            workspace.Kernels.FloatMatvec.Launch(Dim3.Covering((long)Rows * 32, 256), 256, 0, workspace.Stream, ref arguments);
        }
    }

    public override void Dispose() => _weights.Dispose();
}
