using Tern.Cuda.Interop;

namespace Tern.Cuda;

/// <summary>
/// <see cref="Length"/> elements of <typeparamref name="T"/> in page-locked host memory: copies between it and the
/// device run asynchronously on a stream, and a CUDA graph may contain them (the host writes the input before a
/// replay and reads the output after the stream has finished). Dispose frees it.
/// </summary>
public sealed unsafe class PinnedBuffer<T> : IDisposable
    where T : unmanaged
{
    private T* _data;

    public PinnedBuffer(CudaContext context, int length)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        Context = context;
        Length = length;
        context.MakeCurrent();
        _data = (T*)CudaDriver.MemAllocHost((long)length * sizeof(T));
    }

    public CudaContext Context { get; }

    public int Length { get; }

    public Span<T> Span
    {
        get
        {
            ObjectDisposedException.ThrowIf(_data == null, this);
            return new Span<T>(_data, Length);
        }
    }

    /// <summary>Queues a copy of elements [offset, offset + count) to <paramref name="destination"/> on <paramref name="stream"/>.</summary>
    public void CopyToDevice(DevicePointer destination, int offset, int count, CudaStream stream)
    {
        CheckRange(offset, count);
        Context.MakeCurrent();
        CudaDriver.MemcpyHtoDAsync(destination.Address, _data + offset, (long)count * sizeof(T), stream.Handle);
    }

    /// <summary>Queues a copy of <paramref name="count"/> elements from <paramref name="source"/> into [offset, offset + count) on <paramref name="stream"/>.</summary>
    public void CopyFromDevice(DevicePointer source, int offset, int count, CudaStream stream)
    {
        CheckRange(offset, count);
        Context.MakeCurrent();
        CudaDriver.MemcpyDtoHAsync(_data + offset, source.Address, (long)count * sizeof(T), stream.Handle);
    }

    public void Dispose()
    {
        T* data = _data;
        if (data == null)
            return;
        _data = null;
        Context.MakeCurrent();
        CudaDriver.MemFreeHost(data);
    }

    private void CheckRange(int offset, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (offset > Length - count)
            throw new ArgumentOutOfRangeException(nameof(offset), $"elements [{offset}, {offset + count}) are outside a pinned buffer of {Length}");
        ObjectDisposedException.ThrowIf(_data == null, this);
    }
}
