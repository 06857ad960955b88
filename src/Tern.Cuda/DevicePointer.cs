using System.Numerics;

namespace Tern.Cuda;

/// <summary>
/// An address in device memory (CUdeviceptr). Passed to a kernel it is the 8-byte pointer parameter; offsets are in
/// bytes (<see cref="DeviceBuffer{T}.At"/> gives element offsets).
/// </summary>
public readonly record struct DevicePointer(ulong Address)
{
    public static readonly DevicePointer Null;

    public bool IsNull => Address == 0;

    /// <summary>The largest power of two, up to 256, that divides the address (what cuBLASLt's alignment preferences want).</summary>
    public int Alignment => Address == 0 ? 256 : (int)Math.Min(256ul, 1ul << BitOperations.TrailingZeroCount(Address));

    public DevicePointer AddBytes(long bytes) => new((ulong)((long)Address + bytes));

    public static DevicePointer operator +(DevicePointer pointer, long bytes) => pointer.AddBytes(bytes);

    public override string ToString() => $"0x{Address:x}";
}
