using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;

namespace Tern.Conversion.Tokenizers;

/// <summary>
/// Reads llama2.c's tokenizer.bin (int32 max_token_length, then per token float32 score, int32 length, bytes)
/// back into the SentencePiece vocabulary it was exported from, as llama.cpp's "llama" model.
/// </summary>
/// <remarks>
/// llama2.c's export (tokenizer.py) rewrote the pieces: '▁' became a space, and BOS/EOS became "\n&lt;s&gt;\n"
/// and "\n&lt;/s&gt;\n". Both are undone here so the tokens equal the .model's pieces. The file has no piece
/// types, so they are inferred from the text: "&lt;unk&gt;" UNKNOWN, BOS/EOS CONTROL, "&lt;0xXX&gt;" BYTE.
/// The flags are what llama2.c's run.c does with these files: it prepends BOS (never EOS) and a dummy-prefix
/// space.
/// </remarks>
public static partial class Llama2cTokenizerReader
{
    private const string ExportedBos = "\n<s>\n";
    private const string ExportedEos = "\n</s>\n";

    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    /// <param name="path">The tokenizer .bin.</param>
    /// <param name="vocabSize">The vocabulary size from the model's header; null reads tokens to the end of
    /// the file.</param>
    public static GgufTokenizerData Read(string path, int? vocabSize = null)
    {
        byte[] data = File.ReadAllBytes(path);
        return Parse(data, path, vocabSize);
    }

    public static GgufTokenizerData Parse(ReadOnlySpan<byte> data, string name, int? vocabSize = null)
    {
        if (vocabSize is <= 0)
            throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize, "vocabulary size must be positive");
        if (data.Length < 4)
            throw new InvalidDataException($"{name}: {data.Length} bytes; too short for llama2.c's max_token_length header");
        int maxLength = BinaryPrimitives.ReadInt32LittleEndian(data);
        if (maxLength <= 0)
            throw new InvalidDataException($"{name}: max_token_length {maxLength} is not positive; not a llama2.c tokenizer");

        var tokens = new List<string>(vocabSize ?? 512);
        var scores = new List<float>(vocabSize ?? 512);
        var types = new List<int>(vocabSize ?? 512);
        int? unk = null;
        int pos = 4;
        while (vocabSize is { } n ? tokens.Count < n : pos < data.Length)
        {
            int id = tokens.Count;
            if (data.Length - pos < 8)
                throw Truncated(name, id, pos, vocabSize);
            float score = BinaryPrimitives.ReadSingleLittleEndian(data[pos..]);
            int length = BinaryPrimitives.ReadInt32LittleEndian(data[(pos + 4)..]);
            pos += 8;
            if (length < 0 || length > maxLength)
                throw new InvalidDataException($"{name}: token {id} at byte {pos - 8} has length {length}, outside 0…max_token_length {maxLength}");
            if (data.Length - pos < length)
                throw Truncated(name, id, pos, vocabSize);

            string text;
            try
            {
                text = StrictUtf8.GetString(data.Slice(pos, length));
            }
            catch (DecoderFallbackException)
            {
                throw new InvalidDataException($"{name}: token {id} at byte {pos} is not valid UTF-8");
            }

            pos += length;

            GgufTokenType type;
            switch (text)
            {
                case ExportedBos:
                    text = "<s>";
                    type = GgufTokenType.Control;
                    break;
                case ExportedEos:
                    text = "</s>";
                    type = GgufTokenType.Control;
                    break;
                case "<unk>":
                    unk ??= id;
                    type = GgufTokenType.Unknown;
                    break;
                default:
                    type = ByteToken().IsMatch(text) ? GgufTokenType.Byte : GgufTokenType.Normal;
                    // SentencePiece pieces never hold a plain space: every one was a '▁'.
                    text = text.Replace(' ', '\u2581');
                    break;
            }

            tokens.Add(text);
            scores.Add(score);
            types.Add((int)type);
        }

        if (tokens.Count == 0)
            throw new InvalidDataException($"{name}: no tokens after the header");

        int? bos = tokens.IndexOf("<s>") is >= 0 and var b ? b : null;
        int? eos = tokens.IndexOf("</s>") is >= 0 and var e ? e : null;
        return new GgufTokenizerData
        {
            Model = "llama",
            Pre = KnownPre.Default,
            Tokens = [.. tokens],
            Scores = [.. scores],
            TokenTypes = [.. types],
            UnknownId = unk,
            BosId = bos,
            EosId = eos,
            AddBos = true,
            AddEos = false,
            AddSpacePrefix = true,
        };
    }

    private static InvalidDataException Truncated(string name, int id, int pos, int? vocabSize) =>
        new($"{name}: truncated at token {id} (byte {pos}){(vocabSize is { } n ? $"; expected {n} tokens" : "")}");

    [GeneratedRegex("^<0x[0-9A-Fa-f]{2}>$")]
    private static partial Regex ByteToken();
}
