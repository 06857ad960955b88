namespace Tern.Cuda.Inference;

/// <summary>
/// attention_decode's shared memory: the token's query, key and value, its scores over the context (padded to whole
/// float4s), then the cached keys and values of the first <see cref="Capacity"/> positions, which it copies in before
/// it waits for Q/K/V (the later positions it reads through L2).
/// </summary>
internal static class DecodeAttentionPlan
{
    /// <summary>What the driver reserves for each of the three blocks that share an SM, and their static shared memory.</summary>
    public const int SharedReserve = 4096;

    public static int ScoreFloats(int headDim, int contextLength) => (3 * headDim) + ((contextLength + 3) / 4 * 4);

    public static int SharedBytes(int headDim, int contextLength, int capacity) =>
        (ScoreFloats(headDim, contextLength) + (2 * capacity * headDim)) * sizeof(float);

    /// <summary>
    /// Positions to stage, at most <paramref name="limit"/> (0: none) and the context. An attention block shares its SM
    /// with a block of the Q/K/V launch before it and of the output launch after it (programmatic dependent launch:
    /// <paramref name="neighbourBytes"/> together), so it takes what those two leave of
    /// <paramref name="sharedPerBlock"/>. Rows are bulk-copied, so head_dim must be a whole number of 16-byte units.
    /// </summary>
    public static int Capacity(int headDim, int contextLength, int limit, int sharedPerBlock, int neighbourBytes)
    {
        if (headDim % 4 != 0 || limit <= 0)
            return 0;
        int free = sharedPerBlock - neighbourBytes - SharedReserve - (ScoreFloats(headDim, contextLength) * sizeof(float));
        return Math.Clamp(free / (2 * headDim * sizeof(float)), 0, Math.Min(contextLength, limit));
    }
}
