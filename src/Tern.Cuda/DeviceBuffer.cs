using System.Runtime.CompilerServices;
using Tern.Cuda.Interop;

namespace Tern.Cuda;

/// <summary>
/// <see cref="Length"/> elements of <typeparamref name="T"/> in device memory (cuMemAlloc: 256-byte aligned). Copies
/// to and from host spans are synchronous: they return when the data has arrived, so the span may be reused at once.
/// <see cref="At"/> gives the address of an element to pass to a kernel or a matrix product. Dispose frees the memory.
/// </summary>
public sealed unsafe class DeviceBuffer<T> : IDisposable
    where T : unmanaged
{
    private ulong _address;

    public DeviceBuffer(CudaContext context, long length)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, long.MaxValue / sizeof(T));
        Context = context;
        Length = length;
        context.MakeCurrent();
        _address = CudaDriver.MemAlloc(ByteLength);
    }

    public CudaContext Context { get; }

    public long Length { get; }

    public long ByteLength => Length * sizeof(T);

    /// <summary>The address of element 0.</summary>
    public DevicePointer Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(_address == 0, this);
            return new DevicePointer(_address);
        }
    }

    /// <summary>The address of element <paramref name="elementOffset"/> (0 ≤ offset ≤ Length; Length is the end).</summary>
    public DevicePointer At(long elementOffset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(elementOffset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(elementOffset, Length);
        return Pointer + elementOffset * sizeof(T);
    }

    /// <summary>Copies <paramref name="source"/> to elements [offset, offset + source.Length).</summary>
    public void Upload(ReadOnlySpan<T> source, long offset = 0)
    {
        CheckRange(offset, source.Length);
        if (source.IsEmpty)
            return;
        Context.MakeCurrent();
        fixed (T* data = source)
            CudaDriver.MemcpyHtoD(At(offset).Address, data, (long)source.Length * sizeof(T));
    }

    /// <summary>Copies elements [offset, offset + destination.Length) into <paramref name="destination"/>, after all earlier work in the context.</summary>
    public void Download(Span<T> destination, long offset = 0)
    {
        CheckRange(offset, destination.Length);
        if (destination.IsEmpty)
            return;
        Context.MakeCurrent();
        fixed (T* data = destination)
            CudaDriver.MemcpyDtoH(data, At(offset).Address, (long)destination.Length * sizeof(T));
    }

    /// <summary>The whole buffer as a new array.</summary>
    public T[] ToArray()
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Length, Array.MaxLength);
        var values = new T[Length];
        Download(values);
        return values;
    }

    /// <summary>Copies <paramref name="count"/> elements device to device, from <paramref name="source"/> at <paramref name="sourceOffset"/>.</summary>
    public void CopyFrom(DeviceBuffer<T> source, long sourceOffset, long offset, long count, CudaStream? stream = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        source.CheckRange(sourceOffset, count);
        CheckRange(offset, count);
        if (count == 0)
            return;
        Context.MakeCurrent();
        long bytes = count * sizeof(T);
        if (stream is null)
            CudaDriver.MemcpyDtoD(At(offset).Address, source.At(sourceOffset).Address, bytes);
        else
            CudaDriver.MemcpyDtoDAsync(At(offset).Address, source.At(sourceOffset).Address, bytes, stream.Handle);
    }

    /// <summary>Sets every byte to zero; on <paramref name="stream"/> when given, else before returning.</summary>
    public void Zero(CudaStream? stream = null) => FillBytes(0, stream);

    /// <summary>Sets every byte to <paramref name="value"/>.</summary>
    public void FillBytes(byte value, CudaStream? stream = null)
    {
        Context.MakeCurrent();
        if (stream is null)
            CudaDriver.MemsetD8(Pointer.Address, value, ByteLength);
        else
            CudaDriver.MemsetD8Async(Pointer.Address, value, ByteLength, stream.Handle);
    }

    /// <summary>
    /// Sets every 32-bit word to <paramref name="bits"/>: 0xFFFFFFFF fills float buffers with NaN, so an output a
    /// kernel failed to write cannot pass for a result.
    /// </summary>
    public void FillWords(uint bits, CudaStream? stream = null)
    {
        if (ByteLength % 4 != 0)
            throw new InvalidOperationException($"a buffer of {ByteLength} bytes is not a whole number of 32-bit words");
        Context.MakeCurrent();
        if (stream is null)
            CudaDriver.MemsetD32(Pointer.Address, bits, ByteLength / 4);
        else
            CudaDriver.MemsetD32Async(Pointer.Address, bits, ByteLength / 4, stream.Handle);
    }

    public void Dispose()
    {
        ulong address = Interlocked.Exchange(ref _address, 0);
        if (address == 0)
            return;
        Context.MakeCurrent();
        CudaDriver.MemFree(address);
    }

    public override string ToString() => $"DeviceBuffer<{typeof(T).Name}>[{Length}] at {new DevicePointer(_address)}";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckRange(long offset, long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (offset > Length - count)
            throw new ArgumentOutOfRangeException(nameof(offset), $"elements [{offset}, {offset + count}) are outside a buffer of {Length}");
    }
}
