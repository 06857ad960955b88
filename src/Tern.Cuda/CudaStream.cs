using Tern.Cuda.Interop;

namespace Tern.Cuda;

/// <summary>
/// A queue of device work (CUstream): launches, copies and matrix products on one stream run in order, and
/// asynchronously to the host until <see cref="Synchronize"/>. Non-blocking by default, so it never waits on the
/// legacy default stream; a stream is what <see cref="CudaGraph.Capture"/> records.
/// </summary>
public sealed class CudaStream : IDisposable
{
    private nint _handle;

    public CudaStream(CudaContext context, bool nonBlocking = true)
    {
        ArgumentNullException.ThrowIfNull(context);
        Context = context;
        context.MakeCurrent();
        _handle = CudaDriver.StreamCreate(nonBlocking);
    }

    public CudaContext Context { get; }

    /// <summary>The CUstream, for calls Tern.Cuda does not wrap.</summary>
    public nint Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(_handle == 0, this);
            return _handle;
        }
    }

    /// <summary>Waits for everything queued so far; a fault in that work surfaces here as a <see cref="CudaException"/>.</summary>
    public void Synchronize()
    {
        Context.MakeCurrent();
        CudaDriver.StreamSynchronize(Handle);
    }

    public void Dispose()
    {
        nint handle = Interlocked.Exchange(ref _handle, 0);
        if (handle == 0)
            return;
        Context.MakeCurrent();
        CudaDriver.StreamDestroy(handle);
    }
}
