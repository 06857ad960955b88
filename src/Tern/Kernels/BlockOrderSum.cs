using System.Runtime.CompilerServices;

namespace Tern.Kernels;

/// <summary>
/// Float sums in the order a CUDA block of 256 threads computes them (infer_common.cuh's block_order_sum), so that
/// the CPU engine and the CUDA backend round the softmax alike: thread j adds elements j, j + 256, … in
/// turn (from 0), each warp of 32 threads combines its lanes by the xor butterfly (<see cref="WarpOrderSum.Butterfly"/>),
/// and the eight warp sums are added as ((w0 + w1) + (w2 + w3)) + ((w4 + w5) + (w6 + w7)). A block's loads are
/// spread over all its threads, so a long row costs the GPU few round trips. (RMSNorm sums in
/// <see cref="ChunkOrderSum"/>'s order.)
/// </summary>
public static class BlockOrderSum
{
    public const int Threads = 256;

    /// <summary>Σ x_i.</summary>
    [SkipLocalsInit]
    public static float Sum(ReadOnlySpan<float> x)
    {
        Span<float> lanes = stackalloc float[Threads];
        lanes.Clear();
        for (int i = 0; i < x.Length; i++)
            lanes[i & (Threads - 1)] += x[i];
        return Combine(lanes);
    }

    private static float Combine(Span<float> lanes)
    {
        Span<float> warps = stackalloc float[Threads / WarpOrderSum.Lanes];
        for (int w = 0; w < warps.Length; w++)
            warps[w] = WarpOrderSum.Butterfly(lanes.Slice(w * WarpOrderSum.Lanes, WarpOrderSum.Lanes));
        return ((warps[0] + warps[1]) + (warps[2] + warps[3])) + ((warps[4] + warps[5]) + (warps[6] + warps[7]));
    }
}
