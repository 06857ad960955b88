namespace Tern.Cuda;

/// <summary>CUDA C++ that Tern's kernel programs share, to put in front of their own files (NVRTC gets one source).</summary>
public static class SharedKernelSources
{
    /// <summary>reductions.cuh: WARP, warp_sum, warp_sum_int, warp_max, block_sum and block_max.</summary>
    public static KernelSource Reductions { get; } = KernelSource.FromResource(typeof(SharedKernelSources).Assembly, "reductions.cuh");
}
