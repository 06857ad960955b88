namespace Tern.Formats;

/// <summary>
/// The seven header integers of llama2.c's run.c (and bitllama2.c's header): dim, hidden_dim, n_layers, n_heads,
/// n_kv_heads, vocab_size, seq_len. A negative vocab_size in the legacy format means an unshared classifier;
/// here <see cref="VocabSize"/> is its absolute value and <see cref="SharedClassifier"/> says which.
/// </summary>
public sealed record Llama2cConfig(int Dim, int HiddenDim, int NLayers, int NHeads, int NKvHeads, int VocabSize, int SeqLen, bool SharedClassifier)
{
    public int HeadDim => Dim / NHeads;

    /// <summary>Rows of wk and wv: n_kv_heads · head_dim (smaller than dim under grouped-query attention).</summary>
    public int KvDim => NKvHeads * HeadDim;

    /// <summary>Refuses dimensions no model has, naming the file and the field, before any size is computed from them.</summary>
    internal void Validate(string path)
    {
        Positive(Dim, "dim");
        Positive(HiddenDim, "hidden_dim");
        Positive(NLayers, "n_layers");
        Positive(NHeads, "n_heads");
        Positive(NKvHeads, "n_kv_heads");
        Positive(VocabSize, "vocab_size");
        Positive(SeqLen, "seq_len");
        if (Dim % NHeads != 0)
            throw new InvalidDataException($"{path}: dim {Dim} is not divisible by n_heads {NHeads}");
        if (NKvHeads > NHeads || NHeads % NKvHeads != 0)
            throw new InvalidDataException($"{path}: n_kv_heads {NKvHeads} does not divide n_heads {NHeads}");
        // Far above any llama2.c-format model; keeps products of these in long range and allocations sane.
        const int limit = 1 << 20;
        if (Dim > limit || HiddenDim > limit || NLayers > 4096 || VocabSize > limit || SeqLen > limit)
            throw new InvalidDataException($"{path}: header dimensions {this} are implausibly large for this format");

        void Positive(int v, string field)
        {
            if (v <= 0)
                throw new InvalidDataException($"{path}: {field} is {v}, expected a positive integer");
        }
    }
}
