using Tern.Gguf;

namespace Tern.Models;

/// <summary>
/// The hyperparameters of a LLaMA-shaped model, read from GGUF metadata. The families differ in three named ways:
/// the RoPE pairing, the FFN activation, and whether sub-norms precede the attention output and FFN down
/// projections (their presence is read from the tensors, see <see cref="ModelWeights"/>).
/// </summary>
public sealed record ModelConfig(
    string Architecture,
    int EmbeddingLength,
    int BlockCount,
    int FeedForwardLength,
    int HeadCount,
    int HeadCountKv,
    int HeadDim,
    int VocabSize,
    int ContextLength,
    float RmsNormEpsilon,
    float OutputNormEpsilon,
    float RopeFreqBase,
    RopeStyle Rope,
    FfnActivation Activation)
{
    /// <summary>Tern's key for an output-norm epsilon that differs from the other norms' (bitllama2.c conversions).</summary>
    public const string OutputNormEpsilonKey = "tern.output_norm_rms_epsilon";

    public int QueryLength => HeadCount * HeadDim;

    public int KeyValueLength => HeadCountKv * HeadDim;

    public static ModelConfig FromGguf(GgufFile file)
    {
        var m = file.Metadata;
        string arch = m.Architecture ?? throw new InvalidDataException($"{file.Path}: metadata key '{GgufKeys.Architecture}' is missing");
        (RopeStyle rope, FfnActivation act) = arch switch
        {
            "llama" => (RopeStyle.Norm, FfnActivation.Silu),
            "bitnet" => (RopeStyle.Neox, FfnActivation.Silu),
            "bitnet-b1.58" or "bitnet-25" => (RopeStyle.Neox, FfnActivation.ReluSquared),
            _ => throw new NotSupportedException($"{file.Path}: architecture '{arch}' is not supported (llama, bitnet, bitnet-b1.58, bitnet-25 are)"),
        };

        int Required(string key)
        {
            string full = GgufKeys.ForArch(arch, key);
            try
            {
                int v = m.GetInt32(full);
                return v > 0 ? v : throw new InvalidDataException($"{file.Path}: metadata key '{full}' is {v}; it must be positive");
            }
            catch (KeyNotFoundException)
            {
                throw new InvalidDataException($"{file.Path}: metadata key '{full}' is missing");
            }
        }

        int embedding = Required("embedding_length");
        int heads = Required("attention.head_count");
        int headsKv = m.GetInt64OrDefault(GgufKeys.ForArch(arch, "attention.head_count_kv")) is { } kv ? (int)kv : heads;
        int headDim = m.GetInt64OrDefault(GgufKeys.ForArch(arch, "attention.key_length")) is { } kl ? (int)kl : embedding / heads;
        if (headsKv <= 0 || heads % headsKv != 0)
            throw new InvalidDataException($"{file.Path}: {heads} attention heads are not a multiple of {headsKv} key/value heads");
        int vocab = m.GetInt64OrDefault(GgufKeys.ForArch(arch, "vocab_size")) is { } vs ? (int)vs
            : file.TryGetTensor("token_embd.weight", out var emb) ? (int)emb.Shape[1]
            : throw new InvalidDataException($"{file.Path}: the vocabulary size is neither in '{GgufKeys.ForArch(arch, "vocab_size")}' nor given by token_embd.weight");
        float eps = m.GetSingleOrDefault(GgufKeys.ForArch(arch, "attention.layer_norm_rms_epsilon"))
            ?? throw new InvalidDataException($"{file.Path}: metadata key '{GgufKeys.ForArch(arch, "attention.layer_norm_rms_epsilon")}' is missing");
        return new ModelConfig(
            arch, embedding, Required("block_count"), Required("feed_forward_length"), heads, headsKv, headDim, vocab,
            Required("context_length"), eps, m.GetSingleOrDefault(OutputNormEpsilonKey) ?? eps,
            m.GetSingleOrDefault(GgufKeys.ForArch(arch, "rope.freq_base")) ?? 10000f, rope, act);
    }
}
