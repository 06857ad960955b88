using System.Runtime.InteropServices;
using System.Text;

namespace Tern.Text;

/// <summary>
/// Turns ids fed one at a time into text, returning only whole UTF-8 characters: the bytes of a character
/// spread over several tokens (&lt;0xF0&gt;&lt;0x9F&gt;… in SentencePiece, split byte-level pieces in BPE) are held
/// until the last one arrives, then come out together. Concatenating what <see cref="Append"/> and
/// <see cref="Flush"/> return gives <see cref="GgufTokenizer.Decode"/> of the same ids. One per stream; not
/// thread-safe.
/// </summary>
public sealed class TokenStreamDecoder
{
    private readonly GgufTokenizer _tokenizer;
    private readonly Decoder _utf8 = Encoding.UTF8.GetDecoder();
    private readonly List<byte> _bytes = new(16);
    private char[] _chars = new char[32];
    private bool _started;

    internal TokenStreamDecoder(GgufTokenizer tokenizer) => _tokenizer = tokenizer;

    /// <summary>The text completed by <paramref name="id"/>; empty while a character is still incomplete
    /// or for a token with no text (BOS, EOS).</summary>
    public string Append(int id)
    {
        _bytes.Clear();
        _started |= _tokenizer.AppendPiece(id, _bytes, first: !_started);
        if (_bytes.Count == 0)
            return string.Empty;
        return Convert(CollectionsMarshal.AsSpan(_bytes), flush: false);
    }

    /// <summary>Whatever is still held (an incomplete character at the end of the stream) as U+FFFD, and a
    /// fresh start for the next stream.</summary>
    public string Flush()
    {
        string rest = Convert([], flush: true);
        _started = false;
        return rest;
    }

    private string Convert(ReadOnlySpan<byte> bytes, bool flush)
    {
        int needed = _utf8.GetCharCount(bytes, flush);
        if (needed > _chars.Length)
            _chars = new char[Math.Max(needed, _chars.Length * 2)];
        int n = _utf8.GetChars(bytes, _chars, flush);
        return n == 0 ? string.Empty : new string(_chars, 0, n);
    }
}
