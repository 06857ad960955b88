using Tern.Cuda;

namespace Tern.Training.Cuda;

/// <summary>Device memory for matrix-product operands, whose element is bfloat16 (2 bytes) or float32 (4) by the
/// model's <see cref="CudaTrainingPrecision"/>.</summary>
internal sealed class OperandBuffer : IDisposable
{
    public OperandBuffer(CudaContext context, long length, int elementBytes)
    {
        Length = Math.Max(1, length);
        ElementBytes = elementBytes;
        Bytes = new DeviceBuffer<byte>(context, Length * elementBytes);
    }

    /// <summary>The memory as bytes, for copies.</summary>
    public DeviceBuffer<byte> Bytes { get; }

    public long Length { get; }

    public int ElementBytes { get; }

    public DevicePointer Pointer => Bytes.Pointer;

    /// <summary>The address of element <paramref name="element"/>.</summary>
    public DevicePointer At(long element) => Bytes.At(element * ElementBytes);

    public void Dispose() => Bytes.Dispose();
}
