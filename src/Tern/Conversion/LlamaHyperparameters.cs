using Tern.Gguf;

namespace Tern.Conversion;

/// <summary>
/// The hyperparameter keys llama.cpp and bitnet.cpp read for LLaMA-shaped architectures ("llama", "bitnet",
/// "bitnet-b1.58"), written as "{arch}.{key}" (gguf-py/gguf/constants.py).
/// </summary>
public sealed record LlamaHyperparameters(
    string Architecture,
    int ContextLength,
    int EmbeddingLength,
    int BlockCount,
    int FeedForwardLength,
    int HeadCount,
    int HeadCountKv,
    float RopeFreqBase,
    float RmsNormEpsilon,
    int VocabSize,
    int HeadDim)
{
    /// <summary>Whether head_dim differs from embedding/heads, which needs explicit key/value lengths.</summary>
    public bool HasExplicitHeadDim => HeadDim * HeadCount != EmbeddingLength;

    public void WriteTo(GgufMetadata m)
    {
        string a = Architecture;
        m.Set(GgufKeys.ForArch(a, "vocab_size"), (uint)VocabSize);
        m.Set(GgufKeys.ForArch(a, "context_length"), (uint)ContextLength);
        m.Set(GgufKeys.ForArch(a, "embedding_length"), (uint)EmbeddingLength);
        m.Set(GgufKeys.ForArch(a, "block_count"), (uint)BlockCount);
        m.Set(GgufKeys.ForArch(a, "feed_forward_length"), (uint)FeedForwardLength);
        m.Set(GgufKeys.ForArch(a, "rope.dimension_count"), (uint)HeadDim);
        m.Set(GgufKeys.ForArch(a, "attention.head_count"), (uint)HeadCount);
        m.Set(GgufKeys.ForArch(a, "attention.head_count_kv"), (uint)HeadCountKv);
        if (HasExplicitHeadDim)
        {
            m.Set(GgufKeys.ForArch(a, "attention.key_length"), (uint)HeadDim);
            m.Set(GgufKeys.ForArch(a, "attention.value_length"), (uint)HeadDim);
        }

        m.Set(GgufKeys.ForArch(a, "attention.layer_norm_rms_epsilon"), RmsNormEpsilon);
        m.Set(GgufKeys.ForArch(a, "rope.freq_base"), RopeFreqBase);
    }

    public void Validate(string origin)
    {
        void Positive(int v, string field)
        {
            if (v <= 0)
                throw new InvalidDataException($"{origin}: {field} is {v}; it must be positive");
        }

        Positive(ContextLength, "context length");
        Positive(EmbeddingLength, "hidden size");
        Positive(BlockCount, "layer count");
        Positive(FeedForwardLength, "intermediate size");
        Positive(HeadCount, "attention heads");
        Positive(HeadCountKv, "key/value heads");
        Positive(VocabSize, "vocabulary size");
        Positive(HeadDim, "head dimension");
        if (HeadCount % HeadCountKv != 0)
            throw new InvalidDataException($"{origin}: {HeadCount} attention heads are not a multiple of {HeadCountKv} key/value heads");
        if (HeadDim % 2 != 0)
            throw new InvalidDataException($"{origin}: head dimension {HeadDim} is odd; RoPE needs pairs");
    }
}
