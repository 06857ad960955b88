using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;
using Tern.Conversion.Tokenizers;
using Tern.Gguf;

namespace Tern.Text;

/// <summary>
/// tokenizer.ggml.model = "gpt2": byte-level BPE as llama.cpp runs it (llm_tokenizer_bpe). The text is cut by
/// the pre-tokenizer regex of tokenizer.ggml.pre, each piece's UTF-8 bytes become GPT-2's printable characters,
/// and the merges of tokenizer.ggml.merges apply lowest rank first. The merging is Microsoft.ML.Tokenizers'
/// <see cref="BpeTokenizer"/>; Llama 3's "ignore_merges" (a piece that is a token as a whole is taken as is) is
/// applied here before it.
/// </summary>
public sealed class ByteLevelBpeTokenizer : GgufTokenizer
{
    private readonly Regex[] _preTokenizer;
    private readonly BpeTokenizer _bpe;
    private readonly Dictionary<string, int> _ids;
    private readonly bool _ignoreMerges;
    private readonly byte[]?[] _pieces;

    internal ByteLevelBpeTokenizer(GgufMetadata metadata, string[] tokens)
        : base(metadata, tokens, defaultBos: 11, defaultEos: 11)
    {
        Pre = metadata.GetStringOrDefault(GgufKeys.TokenizerPre) ?? "default";
        string[] patterns = PreTokenizerPatterns.For(Pre)
            ?? throw new NotSupportedException($"{GgufKeys.TokenizerPre} = \"{Pre}\" is not supported; Tern knows \"llama-bpe\", \"gpt2\" and \"default\"");
        _preTokenizer = [.. patterns.Select(p => new Regex(p, RegexOptions.CultureInvariant))];
        _ignoreMerges = IsLlama3Pre(Pre);

        string[] merges = metadata.TryGetValue(GgufKeys.TokenizerMerges, out var m)
            ? m.AsArray<string>()
            : throw new InvalidDataException($"{GgufKeys.TokenizerMerges} is missing; byte-level BPE needs its merges");

        _ids = new Dictionary<string, int>(tokens.Length, StringComparer.Ordinal);
        for (int i = 0; i < tokens.Length; i++)
            _ids[tokens[i]] = i;

        _bpe = BpeTokenizer.Create(new BpeOptions(_ids)
        {
            Merges = merges,
            ByteLevel = true,
        });

        _pieces = new byte[]?[tokens.Length];
        for (int i = 0; i < tokens.Length; i++)
            _pieces[i] = PieceBytes(i);
    }

    public override string Model => "gpt2";

    /// <summary>tokenizer.ggml.pre: which regex cuts the text before merging.</summary>
    public string Pre { get; }

    /// <summary>llama.cpp adds BOS by default for Llama 3's pre-tokenizer only.</summary>
    private protected override bool DefaultAddBos(GgufMetadata metadata) =>
        IsLlama3Pre(metadata.GetStringOrDefault(GgufKeys.TokenizerPre));

    private static bool IsLlama3Pre(string? pre) => pre is "llama-bpe" or "llama3" or "falcon3";

    private protected override void EncodeText(string text, bool afterSpecial, List<int> output)
    {
        foreach (string piece in PreTokenizerPatterns.Split(text, _preTokenizer))
        {
            if (_ignoreMerges && _ids.TryGetValue(ByteLevelEncoding.Encode(Encoding.UTF8.GetBytes(piece)), out int whole))
            {
                output.Add(whole);
                continue;
            }

            output.AddRange(_bpe.EncodeToIds(piece, considerPreTokenization: false, considerNormalization: false));
        }
    }

    public override bool AppendPiece(int id, List<byte> bytes, bool first)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if ((uint)id >= (uint)_pieces.Length || _pieces[id] is not { Length: > 0 } piece)
            return false;
        bytes.AddRange(piece);
        return true;
    }

    /// <summary>What llama.cpp's token_to_piece gives without special tokens: nothing for control tokens,
    /// user-defined tokens as written, the bytes behind GPT-2's characters for the rest.</summary>
    private byte[]? PieceBytes(int id)
    {
        TryGetType(id, out var type);
        string text = Tokens[id];
        return type switch
        {
            GgufTokenType.Control or GgufTokenType.Unknown or GgufTokenType.Unused => null,
            GgufTokenType.UserDefined => Encoding.UTF8.GetBytes(text),
            _ => ByteLevelEncoding.TryDecode(text) ?? Encoding.UTF8.GetBytes(text),
        };
    }
}
