namespace Tern.Conversion;

/// <summary>
/// Hugging Face stores Llama's q/k projections for rotate-half RoPE (the two halves of each head apart); GGUF's
/// llama architecture uses adjacent pairs (RoPE "NORM"). llama.cpp's converter reorders rows with
/// W.reshape(heads, 2, head_dim/2, in).swapaxes(1, 2): within each head, output row 2i + t takes input row t·(head_dim/2) + i.
/// See https://github.com/ggml-org/llama.cpp/blob/master/convert_hf_to_gguf.py (LlamaModel.permute).
/// </summary>
public static class QkPermutation
{
    /// <summary>The Hugging Face row that GGUF row <paramref name="row"/> comes from, for a projection with <paramref name="heads"/> heads.</summary>
    public static long SourceRow(long row, long rows, int heads)
    {
        long headDim = rows / heads;
        long head = row / headDim, within = row % headDim;
        long i = within / 2, t = within % 2;
        return (head * headDim) + (t * (headDim / 2)) + i;
    }

    /// <summary>
    /// The opposite reordering, for weights made for adjacent-pair RoPE (llama2.c, bitllama2.c) that go into an
    /// architecture with NEOX RoPE ("bitnet"): within each head, output row t·(head_dim/2) + i takes input row 2i + t.
    /// </summary>
    public static long SourceRowForNeox(long row, long rows, int heads)
    {
        long headDim = rows / heads;
        long head = row / headDim, within = row % headDim;
        long t = within / (headDim / 2), i = within % (headDim / 2);
        return (head * headDim) + (2 * i) + t;
    }
}
