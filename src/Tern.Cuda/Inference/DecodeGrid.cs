namespace Tern.Cuda.Inference;

/// <summary>
/// How a fused decoding kernel (decode_ternary, decode_gate_up) splits a matrix's rows: about one block per SM, each
/// staging the codes of its rows in shared memory, at most <see cref="MaxRowsPerBlock"/> rows (eight warps of eight).
/// </summary>
internal readonly record struct DecodeGrid(int RowsPerBlock, int Blocks, int SharedBytes)
{
    /// <summary>
    /// Threads of a decoding block: DECODE_THREADS in infer_decode.cu (eight warps; 16 and 32 measured slower on the
    /// H100, docs/performance.md).
    /// </summary>
    public const int Threads = 256;

    /// <summary>DECODE_WARPS · DECODE_ROWS_PER_WARP in infer_decode.cu.</summary>
    public const int MaxRowsPerBlock = 64;

    /// <summary>
    /// The grid for <paramref name="rows"/> rows of <paramref name="groups"/> groups of 64 codes, in each of
    /// <paramref name="matrices"/> matrices read together (gate and up: 2); null when not even one row fits in
    /// <paramref name="sharedLimit"/> bytes beside the staged input.
    /// </summary>
    /// <summary>The input a block stages after its codes: 64 int8, 64 floats, 8 floats of chunk statistics and 64 norm weights per group (decode_input).</summary>
    public static int InputBytes(int groups) => groups * ((64 * (1 + sizeof(float) + sizeof(float))) + (8 * sizeof(float)));

    public static DecodeGrid? For(int rows, int groups, int matrices, int multiprocessors, int sharedLimit)
    {
        int inputBytes = InputBytes(groups);
        int rowBytes = matrices * groups * 16;
        int fitting = (sharedLimit - inputBytes) / rowBytes;
        int perBlock = Math.Min(Math.Min(MaxRowsPerBlock, fitting), (rows + multiprocessors - 1) / multiprocessors);
        if (perBlock < 1)
            return null;
        return new DecodeGrid(perBlock, (rows + perBlock - 1) / perBlock, (perBlock * rowBytes) + inputBytes);
    }
}
