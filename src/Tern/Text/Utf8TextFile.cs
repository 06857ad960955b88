using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace Tern.Text;

/// <summary>Text files that users hand to Tern (prompts, evaluation and training text): UTF-8 or a clear refusal.</summary>
public static class Utf8TextFile
{
    /// <summary>
    /// The file's text. Invalid UTF-8 is refused with the offset of the first bad byte, so the user can find it;
    /// decoding it leniently would feed U+FFFD to the tokenizer and quietly change the text.
    /// </summary>
    public static string Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        // Reading a folder fails with "access denied", which sends the user looking at permissions.
        if (Directory.Exists(path))
            throw new InvalidDataException($"{path}: is a folder, not a text file");
        byte[] bytes = File.ReadAllBytes(path);
        if (FirstInvalidByte(bytes) is { } offset)
            throw new InvalidDataException($"{path}: not valid UTF-8 at byte {offset} (0x{bytes[offset]:X2})");
        return Encoding.UTF8.GetString(bytes);
    }

    /// <summary>The offset of the first byte that does not start a valid UTF-8 sequence, or null when all are valid.</summary>
    public static long? FirstInvalidByte(ReadOnlySpan<byte> bytes)
    {
        // The vectorized check first: training text runs to hundreds of megabytes, and almost all of it is valid.
        if (Utf8.IsValid(bytes))
            return null;
        var rest = bytes;
        while (!rest.IsEmpty)
        {
            if (Rune.DecodeFromUtf8(rest, out _, out int consumed) != OperationStatus.Done)
                return bytes.Length - rest.Length;
            rest = rest[consumed..];
        }

        return null;
    }
}
