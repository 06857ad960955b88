namespace Tern.Cuda;

/// <summary>
/// CUstreamCaptureMode: which CUDA calls that are unsafe during a capture (allocations, synchronous copies) are
/// refused while a stream records into a graph.
/// </summary>
public enum StreamCaptureMode
{
    /// <summary>Refused on every thread while any global-mode capture runs.</summary>
    Global = 0,

    /// <summary>Refused only on the capturing thread; the usual choice.</summary>
    ThreadLocal = 1,

    /// <summary>Nothing refused: the caller takes care.</summary>
    Relaxed = 2,
}
