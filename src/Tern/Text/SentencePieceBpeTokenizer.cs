using System.Globalization;
using System.Text;
using Tern.Conversion.Tokenizers;
using Tern.Gguf;

namespace Tern.Text;

/// <summary>
/// tokenizer.ggml.model = "llama": SentencePiece's BPE as llama.cpp runs it (llm_tokenizer_spm). Spaces become
/// '▁', a '▁' is put in front of text that starts the prompt or follows a special token (add_space_prefix),
/// then neighbouring pieces merge, highest score first (the leftmost on a tie), as long as the merged piece is
/// in the vocabulary. A piece left outside the vocabulary falls back to its UTF-8 bytes as &lt;0xXX&gt; tokens.
/// </summary>
/// <remarks>Microsoft.ML.Tokenizers' SentencePieceTokenizer reads only a SentencePiece model proto, not GGUF's
/// arrays, so this one is written out; it is short and mirrors llama.cpp step by step.</remarks>
public sealed class SentencePieceBpeTokenizer : GgufTokenizer
{
    private const char SpaceMark = '\u2581'; // '▁'

    private readonly Dictionary<string, int> _ids;
    private readonly float[] _scores;
    private readonly int[] _byteIds = new int[256];
    private readonly byte[]?[] _pieces;

    internal SentencePieceBpeTokenizer(GgufMetadata metadata, string[] tokens)
        : base(metadata, tokens, defaultBos: 1, defaultEos: 2)
    {
        _scores = metadata.TryGetValue(GgufKeys.TokenizerScores, out var s) ? s.AsArray<float>() : new float[tokens.Length];
        if (_scores.Length != tokens.Length)
            throw new InvalidDataException($"{GgufKeys.TokenizerScores} has {_scores.Length} entries for {tokens.Length} tokens");
        AddSpacePrefix = !metadata.TryGetValue(GgufKeys.TokenizerAddSpacePrefix, out var p) || p.AsBool();

        // Like llama.cpp's token_to_id map, a duplicated string resolves to its last id.
        _ids = new Dictionary<string, int>(tokens.Length, StringComparer.Ordinal);
        for (int i = 0; i < tokens.Length; i++)
            _ids[tokens[i]] = i;

        for (int b = 0; b < 256; b++)
        {
            string hex = $"<0x{b:X2}>";
            // Without <0xXX>, llama.cpp looks the byte up as a one-character token, which only ASCII can be.
            _byteIds[b] = _ids.TryGetValue(hex, out int id) ? id
                : b < 0x80 && _ids.TryGetValue(((char)b).ToString(), out id) ? id
                : -1;
        }

        _pieces = new byte[]?[tokens.Length];
        for (int i = 0; i < tokens.Length; i++)
            _pieces[i] = PieceBytes(i);
    }

    public override string Model => "llama";

    private protected override bool DefaultAddBos(GgufMetadata metadata) => true;

    /// <summary>tokenizer.ggml.add_space_prefix (default true).</summary>
    public bool AddSpacePrefix { get; }

    private protected override void EncodeText(string text, bool afterSpecial, List<int> output)
    {
        string escaped = ((AddSpacePrefix && afterSpecial) ? " " + text : text).Replace(' ', SpaceMark);
        new Session(this, escaped).Tokenize(output);
    }

    public override bool AppendPiece(int id, List<byte> bytes, bool first)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if ((uint)id >= (uint)_pieces.Length || _pieces[id] is not { Length: > 0 } piece)
            return false;
        int skip = first && AddSpacePrefix && piece[0] == (byte)' ' ? 1 : 0;
        for (int i = skip; i < piece.Length; i++)
            bytes.Add(piece[i]);
        return true;
    }

    /// <summary>What llama.cpp's token_to_piece gives without special tokens: nothing for control and unknown
    /// tokens, the byte for &lt;0xXX&gt;, the text with '▁' as space otherwise.</summary>
    private byte[]? PieceBytes(int id)
    {
        TryGetType(id, out var type);
        string text = Tokens[id];
        return type switch
        {
            GgufTokenType.Control or GgufTokenType.Unknown or GgufTokenType.Unused => null,
            GgufTokenType.UserDefined => Encoding.UTF8.GetBytes(text),
            GgufTokenType.Byte when text.Length == 6 && text.StartsWith("<0x", StringComparison.Ordinal) =>
                [byte.Parse(text.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)],
            _ => Encoding.UTF8.GetBytes(text.Replace(SpaceMark, ' ')),
        };
    }

    private struct Symbol
    {
        public int Start;
        public int Length; // chars; 0 once merged into its left neighbour
        public int Prev;
        public int Next;
    }

    private readonly record struct Bigram(int Left, int Right, float Score, int Length);

    /// <summary>One call's state: the symbols (UTF-16 slices of whole code points), the queue of candidate
    /// merges, and which two symbols each merged string came from, for resegmenting.</summary>
    private sealed class Session(SentencePieceBpeTokenizer owner, string text)
    {
        private readonly List<Symbol> _symbols = [];
        private readonly PriorityQueue<Bigram, Bigram> _queue = new(BigramOrder.Instance);
        private readonly Dictionary<string, (int Left, int Right)> _revMerge = new(StringComparer.Ordinal);

        public void Tokenize(List<int> output)
        {
            for (int offs = 0; offs < text.Length;)
            {
                int len = char.IsHighSurrogate(text[offs]) && offs + 1 < text.Length && char.IsLowSurrogate(text[offs + 1]) ? 2 : 1;
                int index = _symbols.Count;
                _symbols.Add(new Symbol { Start = offs, Length = len, Prev = index - 1, Next = offs + len == text.Length ? -1 : index + 1 });
                offs += len;
            }

            for (int i = 1; i < _symbols.Count; i++)
                TryAddBigram(i - 1, i);

            while (_queue.TryDequeue(out var bigram, out _))
            {
                var left = _symbols[bigram.Left];
                var right = _symbols[bigram.Right];
                if (left.Length == 0 || right.Length == 0 || left.Length + right.Length != bigram.Length)
                    continue;

                left.Length += right.Length;
                right.Length = 0;
                left.Next = right.Next;
                if (right.Next >= 0)
                {
                    var after = _symbols[right.Next];
                    after.Prev = bigram.Left;
                    _symbols[right.Next] = after;
                }

                _symbols[bigram.Left] = left;
                _symbols[bigram.Right] = right;

                TryAddBigram(left.Prev, bigram.Left);
                TryAddBigram(bigram.Left, left.Next);
            }

            for (int i = _symbols.Count > 0 ? 0 : -1; i != -1; i = _symbols[i].Next)
                Resegment(_symbols[i], output);
        }

        private void TryAddBigram(int left, int right)
        {
            if (left == -1 || right == -1)
                return;
            string merged = text.Substring(_symbols[left].Start, _symbols[left].Length + _symbols[right].Length);
            if (!owner._ids.TryGetValue(merged, out int id))
                return;
            var bigram = new Bigram(left, right, owner._scores[id], merged.Length);
            _queue.Enqueue(bigram, bigram);
            _revMerge[merged] = (left, right);
        }

        private void Resegment(Symbol symbol, List<int> output)
        {
            string piece = text.Substring(symbol.Start, symbol.Length);
            if (owner._ids.TryGetValue(piece, out int id))
            {
                output.Add(id);
                return;
            }

            if (_revMerge.TryGetValue(piece, out var parts))
            {
                Resegment(_symbols[parts.Left], output);
                Resegment(_symbols[parts.Right], output);
                return;
            }

            foreach (byte b in Encoding.UTF8.GetBytes(piece))
            {
                int byteId = owner._byteIds[b];
                if (byteId < 0)
                    throw new InvalidOperationException($"the vocabulary has no token for byte 0x{b:X2} (<0x{b:X2}>) to spell \"{piece}\"");
                output.Add(byteId);
            }
        }
    }

    /// <summary>Highest score first; on a tie the leftmost pair (llama.cpp's llm_bigram_spm::comparator).</summary>
    private sealed class BigramOrder : IComparer<Bigram>
    {
        public static readonly BigramOrder Instance = new();

        public int Compare(Bigram x, Bigram y)
        {
            int c = y.Score.CompareTo(x.Score);
            return c != 0 ? c : x.Left.CompareTo(y.Left);
        }
    }
}
