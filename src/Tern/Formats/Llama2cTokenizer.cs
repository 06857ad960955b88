using System.Buffers.Binary;
using System.Text;

namespace Tern.Formats;

/// <summary>
/// llama2.c's tokenizer.bin: int32 max_token_length, then per token float32 score, int32 byte length, bytes.
/// The file does not store the vocabulary size; the model's config gives it.
/// </summary>
public sealed class Llama2cTokenizer
{
    public required string Path { get; init; }
    public required int MaxTokenLength { get; init; }
    /// <summary>Each token's bytes as stored (llama2.c pieces are UTF-8 but a piece may be a partial character).</summary>
    public required IReadOnlyList<byte[]> TokenBytes { get; init; }
    /// <summary>Each token decoded as UTF-8 (invalid sequences become U+FFFD; use <see cref="TokenBytes"/> for exactness).</summary>
    public required IReadOnlyList<string> Tokens { get; init; }
    public required float[] Scores { get; init; }

    public int VocabSize => Tokens.Count;

    public static Llama2cTokenizer Load(string path, int vocabSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabSize);
        using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var four = new byte[4];
        BinaryReads.Exactly(s, four, path, "max_token_length");
        int maxLen = BinaryPrimitives.ReadInt32LittleEndian(four);
        if (maxLen <= 0 || maxLen > 1 << 16)
            throw new InvalidDataException($"{path}: max_token_length is {maxLen}, expected 1..65536");

        var bytes = new byte[vocabSize][];
        var tokens = new string[vocabSize];
        var scores = new float[vocabSize];
        var pair = new byte[8];
        for (int i = 0; i < vocabSize; i++)
        {
            BinaryReads.Exactly(s, pair, path, $"token {i} (score and length; is vocab_size {vocabSize} right?)");
            scores[i] = BinaryPrimitives.ReadSingleLittleEndian(pair);
            int len = BinaryPrimitives.ReadInt32LittleEndian(pair.AsSpan(4));
            if (len < 0 || len > maxLen)
                throw new InvalidDataException($"{path}: token {i} length is {len}, outside 0..max_token_length {maxLen}");
            bytes[i] = new byte[len];
            BinaryReads.Exactly(s, bytes[i], path, $"token {i} bytes");
            tokens[i] = Encoding.UTF8.GetString(bytes[i]);
        }
        if (s.Position != s.Length)
            throw new InvalidDataException($"{path}: {s.Length - s.Position} bytes follow token {vocabSize - 1}; the file holds more tokens than vocab_size {vocabSize}");
        return new Llama2cTokenizer { Path = path, MaxTokenLength = maxLen, TokenBytes = bytes, Tokens = tokens, Scores = scores };
    }
}
