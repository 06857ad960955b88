using System.Text;
using Tern.Conversion.Tokenizers;
using Tern.Gguf;

namespace Tern.Text;

/// <summary>
/// A tokenizer built from a GGUF file's tokenizer.ggml.* keys, following llama.cpp's rules so that ids match
/// what llama.cpp produces for the same file: <see cref="Create"/> picks SentencePiece-style BPE for "llama"
/// and byte-level BPE for "gpt2". Instances are immutable and safe to share between threads.
/// </summary>
public abstract class GgufTokenizer
{
    private readonly string[] _tokens;
    private readonly GgufTokenType[] _types;
    private readonly SpecialTokenSplitter _specials;
    private readonly SpecialTokenSplitter _userDefined;

    private protected GgufTokenizer(GgufMetadata metadata, string[] tokens, int defaultBos, int defaultEos)
    {
        _tokens = tokens;
        _types = ReadTypes(metadata, tokens.Length);

        BosId = ReadId(metadata, GgufKeys.TokenizerBosId) ?? defaultBos;
        EosId = ReadId(metadata, GgufKeys.TokenizerEosId) ?? defaultEos;
        EotId = ReadId(metadata, GgufKeys.TokenizerEotId) ?? FindEot();
        AddBos = metadata.TryGetValue(GgufKeys.TokenizerAddBos, out var addBos) ? addBos.AsBool() : DefaultAddBos(metadata);
        AddEos = metadata.TryGetValue(GgufKeys.TokenizerAddEos, out var addEos) && addEos.AsBool();

        // llama.cpp always splits out user-defined tokens; control and unknown tokens only when asked to.
        _specials = new SpecialTokenSplitter(tokens, _types, t => t is GgufTokenType.Control or GgufTokenType.UserDefined or GgufTokenType.Unknown);
        _userDefined = new SpecialTokenSplitter(tokens, _types, t => t is GgufTokenType.UserDefined);
    }

    /// <summary>tokenizer.ggml.model: "llama" or "gpt2".</summary>
    public abstract string Model { get; }

    public int VocabularySize => _tokens.Length;

    public int BosId { get; }

    public int EosId { get; }

    /// <summary>The end-of-turn token (Llama 3's &lt;|eot_id|&gt;), or -1 when the vocabulary has none.</summary>
    public int EotId { get; }

    /// <summary>Whether the model wants BOS in front of a prompt (tokenizer.ggml.add_bos_token).</summary>
    public bool AddBos { get; }

    /// <summary>Whether the model wants EOS after a prompt (tokenizer.ggml.add_eos_token).</summary>
    public bool AddEos { get; }

    /// <summary>add_bos_token when the metadata leaves it out: llama.cpp's default for the model and pre-tokenizer.</summary>
    private protected abstract bool DefaultAddBos(GgufMetadata metadata);

    /// <summary>
    /// Reads the tokenizer keys of <paramref name="metadata"/>. Throws when the model is not one Tern knows,
    /// or a key it needs is missing, naming the key.
    /// </summary>
    public static GgufTokenizer Create(GgufMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        if (!metadata.TryGetValue(GgufKeys.TokenizerModel, out var model))
            throw new InvalidDataException($"no tokenizer in the metadata: {GgufKeys.TokenizerModel} is missing");
        string[] tokens = metadata.TryGetValue(GgufKeys.TokenizerTokens, out var t)
            ? t.AsArray<string>()
            : throw new InvalidDataException($"{GgufKeys.TokenizerTokens} is missing");
        if (tokens.Length == 0)
            throw new InvalidDataException($"{GgufKeys.TokenizerTokens} is empty");

        return model.AsString() switch
        {
            "llama" => new SentencePieceBpeTokenizer(metadata, tokens),
            "gpt2" => new ByteLevelBpeTokenizer(metadata, tokens),
            var other => throw new NotSupportedException(
                $"{GgufKeys.TokenizerModel} = \"{other}\" is not supported; Tern reads \"llama\" (SentencePiece) and \"gpt2\" (byte-level BPE)"),
        };
    }

    /// <summary>
    /// The ids of <paramref name="text"/>, without BOS unless <paramref name="addBos"/>. With
    /// <paramref name="parseSpecial"/>, control tokens written in the text (&lt;|begin_of_text|&gt;, &lt;s&gt;)
    /// become their single ids; without it they are tokenized as plain text. User-defined tokens are always
    /// matched, as in llama.cpp.
    /// </summary>
    public int[] Encode(string text, bool addBos, bool parseSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var output = new List<int>(text.Length / 3 + 2);
        if (addBos)
            output.Add(BosId);
        if (text.Length > 0)
            EncodeFragments((parseSpecial ? _specials : _userDefined).Split(text), output);
        return [.. output];
    }

    /// <summary>The text of <paramref name="ids"/>; control tokens (BOS, EOS) are left out, and invalid UTF-8
    /// (an id sequence cut inside a character) becomes U+FFFD.</summary>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var bytes = new List<byte>(ids.Length * 4);
        bool first = true;
        foreach (int id in ids)
            first &= !AppendPiece(id, bytes, first);

        return Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes));
    }

    /// <summary>The token's string as stored in the vocabulary (with '▁' or byte-level characters).</summary>
    public string TokenText(int id) => _tokens[CheckId(id)];

    public GgufTokenType TokenType(int id) => _types[CheckId(id)];

    /// <summary>True for EOS, EOT and any other control token llama.cpp treats as ending generation
    /// (&lt;|end_of_text|&gt;, &lt;|eom_id|&gt;, &lt;|endoftext|&gt;, &lt;|im_end|&gt;).</summary>
    public bool IsEndOfGeneration(int id) =>
        id == EosId || id == EotId ||
        ((uint)id < (uint)_tokens.Length && _types[id] == GgufTokenType.Control && EndOfGenerationTexts.Contains(_tokens[id]));

    /// <summary>A decoder that turns ids fed one by one into text, holding back incomplete UTF-8.</summary>
    public TokenStreamDecoder CreateStreamDecoder() => new(this);

    /// <summary>
    /// Appends the bytes token <paramref name="id"/> stands for. <paramref name="first"/> marks the first token
    /// with text (SentencePiece drops the space it put in front of the text; a BOS before it does not count).
    /// Returns whether the token has text (so the next one is no longer first), even if that was the dropped space.
    /// </summary>
    public abstract bool AppendPiece(int id, List<byte> bytes, bool first);

    private protected abstract void EncodeText(string text, bool afterSpecial, List<int> output);

    private void EncodeFragments(List<SpecialTokenSplitter.Fragment> fragments, List<int> output)
    {
        bool afterSpecial = true; // the start of the text counts as following a special token
        foreach (var fragment in fragments)
        {
            if (fragment.TokenId >= 0)
            {
                output.Add(fragment.TokenId);
                afterSpecial = true;
            }
            else
            {
                EncodeText(fragment.Text!, afterSpecial, output);
                afterSpecial = false;
            }
        }
    }

    private protected bool TryGetType(int id, out GgufTokenType type)
    {
        bool ok = (uint)id < (uint)_types.Length;
        type = ok ? _types[id] : default;
        return ok;
    }

    private protected string[] Tokens => _tokens;

    private int CheckId(int id) =>
        (uint)id < (uint)_tokens.Length ? id : throw new ArgumentOutOfRangeException(nameof(id), id, $"token id outside the vocabulary of {_tokens.Length}");

    private static readonly HashSet<string> EndOfGenerationTexts =
        ["<|eot_id|>", "<|eom_id|>", "<|end_of_text|>", "<|endoftext|>", "<|im_end|>", "<end_of_turn>", "</s>"];

    private int FindEot()
    {
        for (int i = 0; i < _tokens.Length; i++)
        {
            if (_tokens[i] is "<|eot_id|>" or "<|im_end|>" or "<end_of_turn>" && _types[i] == GgufTokenType.Control)
                return i;
        }

        return -1;
    }

    private static int? ReadId(GgufMetadata metadata, string key) =>
        metadata.TryGetValue(key, out var v) ? checked((int)v.AsInt64()) : null;

    private static GgufTokenType[] ReadTypes(GgufMetadata metadata, int n)
    {
        var types = new GgufTokenType[n];
        if (!metadata.TryGetValue(GgufKeys.TokenizerTokenType, out var value))
        {
            types.AsSpan().Fill(GgufTokenType.Normal);
            return types;
        }

        long[] raw = value.AsInt64Array();
        if (raw.Length != n)
            throw new InvalidDataException($"{GgufKeys.TokenizerTokenType} has {raw.Length} entries for {n} tokens");
        for (int i = 0; i < n; i++)
            types[i] = (GgufTokenType)raw[i];
        return types;
    }
}
