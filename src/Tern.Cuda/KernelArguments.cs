using System.Runtime.CompilerServices;

namespace Tern.Cuda;

/// <summary>
/// Arguments for a launch with more parameters than the <see cref="CudaKernel"/> Launch overloads take: each value is
/// copied into a fixed buffer inside this stack-only struct, so gathering and launching allocate nothing.
/// <code>
/// var arguments = new KernelArguments();
/// arguments.Add(parameters.Pointer); arguments.Add(gradients.Pointer); arguments.Add(learningRate); …
/// kernel.Launch(grid, block, 0, stream, ref arguments);
/// </code>
/// </summary>
public unsafe ref struct KernelArguments
{
    /// <summary>The most arguments one launch can carry here.</summary>
    public const int Capacity = 32;

    private const int ByteCapacity = 512;

    private ValueBytes _values;
    private Slots _offsets;
    private Slots _sizes;
    private int _count;
    private int _bytesUsed;

    /// <summary>How many arguments have been added.</summary>
    public readonly int Count => _count;

    /// <summary>Appends <paramref name="value"/> as the next parameter's value.</summary>
    public void Add<T>(T value)
        where T : unmanaged
    {
        int size = sizeof(T);
        // Naturally aligned within the buffer (at most 8, the buffer's own alignment); the driver copies the bytes.
        int alignment = Math.Min(size & -size, 8);
        int offset = (_bytesUsed + alignment - 1) & ~(alignment - 1);
        if (_count == Capacity || offset + size > ByteCapacity)
            throw new InvalidOperationException($"a launch carries at most {Capacity} arguments and {ByteCapacity} bytes of them here");
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref Unsafe.As<ValueBytes, byte>(ref _values), offset), value);
        _offsets[_count] = offset;
        _sizes[_count] = size;
        _count++;
        _bytesUsed = offset + size;
    }

    /// <summary>Writes a pointer to each value and its size; the pointers stay valid while this struct is not moved (it lives on the caller's stack).</summary>
    internal int Describe(void** pointers, int* sizes)
    {
        byte* start = (byte*)Unsafe.AsPointer(ref Unsafe.As<ValueBytes, byte>(ref _values));
        for (int i = 0; i < _count; i++)
        {
            pointers[i] = start + _offsets[i];
            sizes[i] = _sizes[i];
        }
        return _count;
    }

    [InlineArray(ByteCapacity / sizeof(ulong))]
    private struct ValueBytes
    {
        private ulong _first;
    }

    [InlineArray(Capacity)]
    private struct Slots
    {
        private int _first;
    }
}
