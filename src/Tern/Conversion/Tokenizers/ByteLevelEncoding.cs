using System.Text;

namespace Tern.Conversion.Tokenizers;

/// <summary>
/// GPT-2's bytes_to_unicode table: every byte becomes one printable character, so byte-level BPE tokens can be
/// stored as text. Printable Latin-1 bytes map to themselves; the other 68 take U+0100 onwards in byte order
/// (space becomes 'Ġ', newline 'Ċ').
/// </summary>
public static class ByteLevelEncoding
{
    private static readonly char[] ByteToChar = BuildTable();
    private static readonly short[] CharToByte = BuildInverse();

    public static char Encode(byte b) => ByteToChar[b];

    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        Span<char> chars = bytes.Length <= 256 ? stackalloc char[bytes.Length] : new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++)
            chars[i] = ByteToChar[bytes[i]];
        return new string(chars);
    }

    /// <summary>The bytes a byte-level token stands for, or null when a character is outside the table
    /// (an added token such as "&lt;|eot_id|&gt;" is plain text, not byte-level).</summary>
    public static byte[]? TryDecode(string token)
    {
        var bytes = new byte[token.Length];
        for (int i = 0; i < token.Length; i++)
        {
            int b = DecodeChar(token[i]);
            if (b < 0)
                return null;
            bytes[i] = (byte)b;
        }

        return bytes;
    }

    /// <summary>The text of a byte-level token, for messages.</summary>
    public static string Describe(string token) =>
        TryDecode(token) is { } b ? Encoding.UTF8.GetString(b) : token;

    private static int DecodeChar(char c) => c < CharToByte.Length ? CharToByte[c] : -1;

    private static bool IsSelfMapped(char c) => c is (>= '!' and <= '~') or (>= '¡' and <= '¬') or (>= '®' and <= 'ÿ');

    private static char[] BuildTable()
    {
        var table = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
            table[b] = IsSelfMapped((char)b) ? (char)b : (char)next++;
        return table;
    }

    private static short[] BuildInverse()
    {
        // Every table entry is below U+0144 (256 + 68 remapped bytes).
        var inverse = new short[256 + 68];
        inverse.AsSpan().Fill(-1);
        for (int b = 0; b < 256; b++)
            inverse[ByteToChar[b]] = (short)b;
        return inverse;
    }
}
