using Tern.Gguf;

namespace Tern.Conversion.Tokenizers;

/// <summary>
/// A vocabulary in the shape llama.cpp's converter writes it into GGUF: token strings by id, their types, and
/// scores (SentencePiece) or merges (byte-level BPE), plus the special-token ids and flags.
/// Null means "not stated by the source"; <see cref="WriteTo"/> then leaves the key out, as llama.cpp does,
/// and the loader falls back to its per-model default.
/// </summary>
public sealed record GgufTokenizerData
{
    /// <summary>tokenizer.ggml.model: "llama" (SentencePiece) or "gpt2" (byte-level BPE).</summary>
    public required string Model { get; init; }

    /// <summary>tokenizer.ggml.pre: the pre-tokenizer name llama.cpp selects by ("llama-bpe", "default", …).</summary>
    public required string Pre { get; init; }

    public required string[] Tokens { get; init; }

    public required int[] TokenTypes { get; init; }

    public float[]? Scores { get; init; }

    /// <summary>Merges as "left right" strings in priority order, as llama.cpp stores them.</summary>
    public string[]? Merges { get; init; }

    public int? BosId { get; init; }
    public int? EosId { get; init; }
    public int? UnknownId { get; init; }
    public int? PaddingId { get; init; }
    public int? EotId { get; init; }

    public bool? AddBos { get; init; }
    public bool? AddEos { get; init; }
    public bool? AddSpacePrefix { get; init; }

    public string? ChatTemplate { get; init; }

    /// <summary>What a reader had to guess or drop (an unknown pre-tokenizer, a special token not in the vocabulary).
    /// Not written to GGUF; converters should show these to the user.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>The first id whose token is <paramref name="token"/>, or null.</summary>
    public int? FindToken(string token)
    {
        int i = Array.IndexOf(Tokens, token);
        return i >= 0 ? i : null;
    }

    /// <summary>Throws when the arrays disagree in length or an id points outside the vocabulary, so a broken
    /// vocabulary is caught before it is written rather than when a model fails to load.</summary>
    public void Validate()
    {
        int n = Tokens.Length;
        if (n == 0)
            throw new InvalidOperationException("the vocabulary is empty");
        if (TokenTypes.Length != n)
            throw new InvalidOperationException($"{TokenTypes.Length} token types for {n} tokens");
        if (Scores is not null && Scores.Length != n)
            throw new InvalidOperationException($"{Scores.Length} scores for {n} tokens");
        foreach (int t in TokenTypes)
        {
            if (t is < (int)GgufTokenType.Normal or > (int)GgufTokenType.Byte)
                throw new InvalidOperationException($"token type {t} is not one of llama.cpp's (1-6)");
        }

        CheckId(BosId, "bos");
        CheckId(EosId, "eos");
        CheckId(UnknownId, "unknown");
        CheckId(PaddingId, "padding");
        CheckId(EotId, "eot");

        void CheckId(int? id, string name)
        {
            if (id is { } v && (uint)v >= (uint)n)
                throw new InvalidOperationException($"{name} token id {v} is outside the vocabulary of {n}");
        }
    }

    /// <summary>
    /// Sets the tokenizer keys with the value types gguf-py writes (int32 token types, uint32 ids, bool flags),
    /// in its order. Tokenizer keys already in <paramref name="metadata"/> are replaced, and those this
    /// vocabulary leaves unset are removed, so the result never mixes two vocabularies.
    /// </summary>
    public void WriteTo(GgufMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        Validate();

        foreach (string key in metadata.Keys.Where(IsTokenizerKey).ToList())
            metadata.Remove(key);

        metadata.Set(GgufKeys.TokenizerModel, Model);
        metadata.Set(GgufKeys.TokenizerPre, Pre);
        metadata[GgufKeys.TokenizerTokens] = GgufValue.FromArray(Tokens);
        if (Scores is not null)
            metadata[GgufKeys.TokenizerScores] = GgufValue.FromArray(Scores);
        metadata[GgufKeys.TokenizerTokenType] = GgufValue.FromArray(TokenTypes);
        if (Merges is not null)
            metadata[GgufKeys.TokenizerMerges] = GgufValue.FromArray(Merges);

        SetId(GgufKeys.TokenizerBosId, BosId);
        SetId(GgufKeys.TokenizerEosId, EosId);
        SetId(GgufKeys.TokenizerUnknownId, UnknownId);
        SetId(GgufKeys.TokenizerPaddingId, PaddingId);
        SetId(GgufKeys.TokenizerEotId, EotId);

        SetFlag(GgufKeys.TokenizerAddBos, AddBos);
        SetFlag(GgufKeys.TokenizerAddEos, AddEos);
        SetFlag(GgufKeys.TokenizerAddSpacePrefix, AddSpacePrefix);

        if (ChatTemplate is not null)
            metadata.Set(GgufKeys.ChatTemplate, ChatTemplate);

        void SetId(string key, int? id)
        {
            if (id is { } v)
                metadata.Set(key, (uint)v);
        }

        void SetFlag(string key, bool? flag)
        {
            if (flag is { } v)
                metadata.Set(key, v);
        }
    }

    /// <summary>
    /// The vocabulary stored in a GGUF file's metadata, so that it can be written into another file unchanged
    /// (<see cref="WriteTo"/> gives back the same keys with the same value types gguf-py writes). Tokenizer keys
    /// this record has no field for (a BERT vocabulary's separator id, say) are named in <see cref="Warnings"/>,
    /// since <see cref="WriteTo"/> would drop them. Throws naming the key that is missing or of the wrong type.
    /// </summary>
    public static GgufTokenizerData FromMetadata(GgufMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        if (!metadata.ContainsKey(GgufKeys.TokenizerModel))
            throw new InvalidDataException($"no tokenizer in the metadata: {GgufKeys.TokenizerModel} is missing");
        if (!metadata.ContainsKey(GgufKeys.TokenizerTokens))
            throw new InvalidDataException($"{GgufKeys.TokenizerTokens} is missing");

        string[] tokens = metadata.GetArray<string>(GgufKeys.TokenizerTokens);
        int[] types;
        if (metadata.TryGetValue(GgufKeys.TokenizerTokenType, out var typeValue))
        {
            long[] raw = ReadKey(GgufKeys.TokenizerTokenType, typeValue.AsInt64Array);
            // Clamped rather than wrapped, so an out-of-range type cannot turn into a valid one and pass Validate.
            types = Array.ConvertAll(raw, t => (int)Math.Clamp(t, int.MinValue, int.MaxValue));
        }
        else
        {
            // llama.cpp reads a missing token_type as NORMAL for every token.
            types = new int[tokens.Length];
            types.AsSpan().Fill((int)GgufTokenType.Normal);
        }

        var warnings = metadata.Keys
            .Where(key => IsTokenizerKey(key) && !CarriedKeys.Contains(key))
            .Select(key => $"{key} is not carried over; Tern writes only the keys of llama and gpt2 vocabularies")
            .ToList();

        return new GgufTokenizerData
        {
            Model = metadata.GetString(GgufKeys.TokenizerModel),
            // llama.cpp reads a missing pre-tokenizer as "default".
            Pre = metadata.GetStringOrDefault(GgufKeys.TokenizerPre) ?? KnownPre.Default,
            Tokens = tokens,
            TokenTypes = types,
            Scores = metadata.ContainsKey(GgufKeys.TokenizerScores) ? metadata.GetArray<float>(GgufKeys.TokenizerScores) : null,
            Merges = metadata.ContainsKey(GgufKeys.TokenizerMerges) ? metadata.GetArray<string>(GgufKeys.TokenizerMerges) : null,
            BosId = ReadId(GgufKeys.TokenizerBosId),
            EosId = ReadId(GgufKeys.TokenizerEosId),
            UnknownId = ReadId(GgufKeys.TokenizerUnknownId),
            PaddingId = ReadId(GgufKeys.TokenizerPaddingId),
            EotId = ReadId(GgufKeys.TokenizerEotId),
            AddBos = ReadFlag(GgufKeys.TokenizerAddBos),
            AddEos = ReadFlag(GgufKeys.TokenizerAddEos),
            AddSpacePrefix = ReadFlag(GgufKeys.TokenizerAddSpacePrefix),
            ChatTemplate = metadata.GetStringOrDefault(GgufKeys.ChatTemplate),
            Warnings = warnings,
        };

        int? ReadId(string key) => metadata.ContainsKey(key) ? metadata.GetInt32(key) : null;

        bool? ReadFlag(string key) => metadata.ContainsKey(key) ? metadata.GetBool(key) : null;

        static T ReadKey<T>(string key, Func<T> read)
        {
            try
            {
                return read();
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"metadata key '{key}': {e.Message}", e);
            }
        }
    }

    private static readonly HashSet<string> CarriedKeys =
    [
        GgufKeys.TokenizerModel, GgufKeys.TokenizerPre, GgufKeys.TokenizerTokens, GgufKeys.TokenizerScores,
        GgufKeys.TokenizerTokenType, GgufKeys.TokenizerMerges, GgufKeys.TokenizerBosId, GgufKeys.TokenizerEosId,
        GgufKeys.TokenizerUnknownId, GgufKeys.TokenizerPaddingId, GgufKeys.TokenizerEotId, GgufKeys.TokenizerAddBos,
        GgufKeys.TokenizerAddEos, GgufKeys.TokenizerAddSpacePrefix, GgufKeys.ChatTemplate,
    ];

    private static bool IsTokenizerKey(string key) =>
        key.StartsWith("tokenizer.ggml.", StringComparison.Ordinal) ||
        key.StartsWith(GgufKeys.ChatTemplate, StringComparison.Ordinal);
}
