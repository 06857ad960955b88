namespace Tern.Cuda;

/// <summary>
/// A grid or block size in up to three dimensions, as cuLaunchKernel takes it. An int converts to a one-dimensional
/// size, so <c>kernel.Launch(blocks, 256, …)</c> reads as it would in CUDA C++.
/// </summary>
public readonly record struct Dim3
{
    public Dim3(int x, int y = 1, int z = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(x, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(y, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(z, 1);
        X = (uint)x;
        Y = (uint)y;
        Z = (uint)z;
    }

    public uint X { get; }

    public uint Y { get; }

    public uint Z { get; }

    /// <summary>The number of threads (for a block) or blocks (for a grid).</summary>
    public long Count => (long)X * Y * Z;

    /// <summary>The one-dimensional grid that covers <paramref name="elements"/> with blocks of <paramref name="blockSize"/> threads.</summary>
    public static Dim3 Covering(long elements, int blockSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(elements, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        long blocks = (elements + blockSize - 1) / blockSize;
        ArgumentOutOfRangeException.ThrowIfGreaterThan(blocks, int.MaxValue, nameof(elements));
        return new Dim3((int)blocks);
    }

    public static implicit operator Dim3(int x) => new(x);

    public override string ToString() => Y == 1 && Z == 1 ? $"{X}" : $"({X}, {Y}, {Z})";
}
