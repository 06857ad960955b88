using System.Buffers;
using System.Text;

namespace Tern.Cli.Commands;

/// <summary>Text files given on the command line (prompts, evaluation text): UTF-8 or a clear refusal.</summary>
internal static class TextFiles
{
    /// <summary>
    /// The file's text. Invalid UTF-8 is refused with the offset of the first bad byte, so the user can find it;
    /// decoding it leniently would feed U+FFFD to the tokenizer and quietly change the prompt.
    /// </summary>
    public static string ReadUtf8(string path)
    {
        // Reading a folder fails with "access denied", which sends the user looking at permissions.
        if (Directory.Exists(path))
            throw new InvalidDataException($"{path}: is a folder, not a text file");
        byte[] bytes = File.ReadAllBytes(path);
        var rest = bytes.AsSpan();
        while (!rest.IsEmpty)
        {
            if (Rune.DecodeFromUtf8(rest, out _, out int consumed) != OperationStatus.Done)
            {
                int offset = bytes.Length - rest.Length;
                throw new InvalidDataException($"{path}: not valid UTF-8 at byte {offset} (0x{bytes[offset]:X2})");
            }

            rest = rest[consumed..];
        }

        return Encoding.UTF8.GetString(bytes);
    }
}
