namespace Tern.Kernels;

/// <summary>
/// RMSNorm's sum of squares in an order that the producers of a vector can compute on their own rows: the vector is
/// cut into chunks of <see cref="ChunkLength"/> consecutive elements, each chunk summed from its first element on,
/// and the chunk sums are combined in <see cref="WarpOrderSum"/>'s order (lane j adds chunks j, j + 32, … in turn,
/// then the butterfly). A GPU block that writes rows 16k … 16k + 15 of a hidden state also writes that chunk's sum,
/// and every consumer combines the few hundred sums with one warp, without a block-wide reduction over the whole
/// vector; the CPU engine sums in this order too, so both quantize the same int8 activations. Products and sums are
/// rounded separately (no fused multiply-add), as the kernels compiled with --fmad=false do.
/// </summary>
public static class ChunkOrderSum
{
    /// <summary>Elements a chunk holds (NORM_CHUNK in infer_common.cuh); the last chunk of a vector may hold fewer.</summary>
    public const int ChunkLength = 16;

    /// <summary>Σ x_i².</summary>
    public static float SumOfSquares(ReadOnlySpan<float> x)
    {
        Span<float> lanes = stackalloc float[WarpOrderSum.Lanes];
        lanes.Clear();
        for (int chunk = 0, start = 0; start < x.Length; chunk++, start += ChunkLength)
            lanes[chunk & (WarpOrderSum.Lanes - 1)] += ChunkSumOfSquares(x.Slice(start, Math.Min(ChunkLength, x.Length - start)));
        return WarpOrderSum.Butterfly(lanes);
    }

    /// <summary>One chunk's Σ x_i², from its first element on.</summary>
    public static float ChunkSumOfSquares(ReadOnlySpan<float> chunk)
    {
        float sum = 0f;
        foreach (float v in chunk)
            sum += v * v;
        return sum;
    }
}
