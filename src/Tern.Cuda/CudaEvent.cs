using Tern.Cuda.Interop;

namespace Tern.Cuda;

/// <summary>
/// A marker in a stream (CUevent): recorded between pieces of work, two of them time the work between them on the
/// device itself, which host clocks cannot do for asynchronous launches.
/// </summary>
public sealed class CudaEvent : IDisposable
{
    private nint _handle;

    public CudaEvent(CudaContext context, bool timing = true)
    {
        ArgumentNullException.ThrowIfNull(context);
        Context = context;
        context.MakeCurrent();
        _handle = CudaDriver.EventCreate(timing);
    }

    public CudaContext Context { get; }

    public nint Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(_handle == 0, this);
            return _handle;
        }
    }

    /// <summary>Marks the point after everything queued so far on <paramref name="stream"/> (the legacy default stream when null).</summary>
    public void Record(CudaStream? stream = null)
    {
        Context.MakeCurrent();
        CudaDriver.EventRecord(Handle, stream?.Handle ?? 0);
    }

    /// <summary>Waits until the work before the recorded point has finished.</summary>
    public void Synchronize()
    {
        Context.MakeCurrent();
        CudaDriver.EventSynchronize(Handle);
    }

    /// <summary>Milliseconds of device time from <paramref name="start"/> to <paramref name="end"/> (both recorded; waits for <paramref name="end"/>).</summary>
    public static float ElapsedMilliseconds(CudaEvent start, CudaEvent end)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(end);
        end.Synchronize();
        return CudaDriver.EventElapsedTime(start.Handle, end.Handle);
    }

    public void Dispose()
    {
        nint handle = Interlocked.Exchange(ref _handle, 0);
        if (handle == 0)
            return;
        Context.MakeCurrent();
        CudaDriver.EventDestroy(handle);
    }
}
