using Tern.Cuda.Interop;

namespace Tern.Cuda;

/// <summary>
/// A recorded sequence of launches and copies replayed as one unit (a CUDA graph, instantiated): a step of many
/// small kernels costs one launch instead of one per kernel. The work is recorded with the same calls that would run
/// it, on a stream in capture mode; replaying uses the argument values and addresses of the recording, so buffers
/// the graph touches must outlive it and hold the new data in place.
/// </summary>
public sealed class CudaGraph : IDisposable
{
    private nint _executable;

    private CudaGraph(CudaContext context, nint executable)
    {
        Context = context;
        _executable = executable;
    }

    public CudaContext Context { get; }

    /// <summary>
    /// Runs <paramref name="record"/> with <paramref name="stream"/> capturing instead of executing, and instantiates
    /// what it queued. Nothing runs until <see cref="Launch"/>. If <paramref name="record"/> throws, the capture is
    /// ended and discarded, leaving the stream usable.
    /// </summary>
    public static CudaGraph Capture(CudaStream stream, Action<CudaStream> record, StreamCaptureMode mode = StreamCaptureMode.ThreadLocal)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(record);
        stream.Context.MakeCurrent();
        CudaDriver.StreamBeginCapture(stream.Handle, mode);
        nint graph;
        try
        {
            record(stream);
        }
        catch
        {
            // Ending the capture is what returns the stream to normal use; the partial graph is of no use.
            try
            {
                nint partial = CudaDriver.StreamEndCapture(stream.Handle);
                if (partial != 0)
                    CudaDriver.GraphDestroy(partial);
            }
            catch (CudaException)
            {
                // The capture was already invalidated by the failure being reported.
            }
            throw;
        }
        graph = CudaDriver.StreamEndCapture(stream.Handle);
        try
        {
            return new CudaGraph(stream.Context, CudaDriver.GraphInstantiate(graph));
        }
        finally
        {
            // The executable graph is a copy; the recorded template is not needed after instantiation.
            CudaDriver.GraphDestroy(graph);
        }
    }

    /// <summary>Queues one replay of the whole graph on <paramref name="stream"/>.</summary>
    public void Launch(CudaStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ObjectDisposedException.ThrowIf(_executable == 0, this);
        Context.MakeCurrent();
        CudaDriver.GraphLaunch(_executable, stream.Handle);
    }

    public void Dispose()
    {
        nint executable = Interlocked.Exchange(ref _executable, 0);
        if (executable == 0)
            return;
        Context.MakeCurrent();
        CudaDriver.GraphExecDestroy(executable);
    }
}
