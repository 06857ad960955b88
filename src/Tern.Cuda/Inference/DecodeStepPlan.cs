namespace Tern.Cuda.Inference;

/// <summary>
/// How decode_step (infer_step.cu) splits a decoding step over the GPU: one block per SM, each taking
/// <c>ceil(rows / blocks)</c> rows of every matrix phase (at most <see cref="DecodeGrid.MaxRowsPerBlock"/>), rounded up
/// to whole chunks of <see cref="Tern.Kernels.ChunkOrderSum.ChunkLength"/> in the phases whose output the next phase
/// normalizes (output, gate/up, down: a block writes its chunks' statistics), with
/// three regions of shared memory: A (the Q/K/V codes, then the gate and up codes, each followed by its norm's
/// weights), B (the output codes, then the down codes, each followed by its sub-norm's weights) and the input (the
/// staged and quantized input of a matrix phase, or an attention head's scores).
/// </summary>
internal readonly record struct DecodeStepPlan(
    int Blocks, int QkvRows, int OutputRows, int FfnRows, int DownRows, int RegionABytes, int RegionBBytes, int InputBytes)
{
    /// <summary>The dynamic shared memory a block of decode_step takes.</summary>
    public int SharedBytes => RegionABytes + RegionBBytes + InputBytes;

    /// <summary>
    /// The plan for a model's shapes on <paramref name="multiprocessors"/> SMs whose blocks may have
    /// <paramref name="sharedLimit"/> bytes of dynamic shared memory, with scores for up to
    /// <paramref name="contextLength"/> positions; null when a phase's rows or the regions do not fit.
    /// </summary>
    public static DecodeStepPlan? For(DecodeStepDimensions d, int multiprocessors, int sharedLimit, int contextLength)
    {
        int dimGroups = Groups(d.Embedding), queryGroups = Groups(d.QueryLength), ffnGroups = Groups(d.FeedForward);
        int qkvRows = PerBlock(d.QueryLength + (2 * d.KeyValueLength), multiprocessors);
        int outputRows = WholeChunks(PerBlock(d.Embedding, multiprocessors));
        int ffnRows = WholeChunks(PerBlock(d.FeedForward, multiprocessors));
        int downRows = outputRows;
        if (Math.Max(Math.Max(qkvRows, outputRows), ffnRows) > DecodeGrid.MaxRowsPerBlock)
            return null;
        long a = Math.Max(Codes(qkvRows, dimGroups) + NormBytes(dimGroups), (2 * Codes(ffnRows, dimGroups)) + NormBytes(dimGroups));
        long b = Math.Max(Codes(outputRows, queryGroups) + NormBytes(queryGroups), Codes(downRows, ffnGroups) + NormBytes(ffnGroups));
        long scores = (((3L * d.HeadDim) + contextLength) * sizeof(float) + 15) / 16 * 16;
        long input = Math.Max(InputBytesFor(Math.Max(Math.Max(dimGroups, queryGroups), ffnGroups)), scores);
        if (a + b + input > sharedLimit)
            return null;
        return new DecodeStepPlan(multiprocessors, qkvRows, outputRows, ffnRows, downRows, (int)a, (int)b, (int)input);
    }

    /// <summary>A matrix phase's staged input: 64 int8, 64 floats and 8 floats of chunk statistics per group of 64 columns (decode_input's q, xs and chunks).</summary>
    public static long InputBytesFor(int groups) => groups * ((64L * (1 + sizeof(float))) + (8 * sizeof(float)));

    /// <summary>Chunks of the widest vector a step normalizes: each of its two sets of statistics holds that many sums and absmaxes.</summary>
    public static int StatisticsChunks(DecodeStepDimensions d) =>
        (Math.Max(d.Embedding, Math.Max(d.QueryLength, d.FeedForward)) + Tern.Kernels.ChunkOrderSum.ChunkLength - 1) / Tern.Kernels.ChunkOrderSum.ChunkLength;

    /// <summary>Whether attention writes its output's statistics: each head's columns are whole chunks.</summary>
    public static bool AttentionWritesStatistics(DecodeStepDimensions d) => d.HeadDim % Tern.Kernels.ChunkOrderSum.ChunkLength == 0;

    private static int Groups(int columns) => DeviceTernaryMatrix.PaddedColumns(columns) / 64;

    private static int PerBlock(int rows, int blocks) => (rows + blocks - 1) / blocks;

    private static int WholeChunks(int rows) =>
        (rows + Tern.Kernels.ChunkOrderSum.ChunkLength - 1) / Tern.Kernels.ChunkOrderSum.ChunkLength * Tern.Kernels.ChunkOrderSum.ChunkLength;

    private static long Codes(int rows, int groups) => rows * (long)groups * 16;

    /// <summary>A norm's weights, read by the quantizer up to the padded width.</summary>
    private static long NormBytes(int groups) => groups * 64L * sizeof(float);
}

/// <summary>The widths a decoding step's plan depends on.</summary>
internal readonly record struct DecodeStepDimensions(int Embedding, int QueryLength, int KeyValueLength, int FeedForward, int HeadDim);
