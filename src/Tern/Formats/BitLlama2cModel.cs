using System.Buffers.Binary;

namespace Tern.Formats;

/// <summary>
/// A ternary model in bitllama2.c's format: a 256-byte header (uint32 magic "ak42", int32 version 1, seven int32
/// dimensions, uint8 shared_classifier, zero padding), fp32 final_norm[dim], fp32 token embedding [vocab, dim]
/// (also the classifier), then wq of every layer, then wk, wv, wo, w1, w2, w3; each a float32 scale followed by
/// out·in/4 bytes of 2-bit codes over weight[out][in] row-major: 01 = +1, 11 = −1, 00 = 0 (10 is never written).
/// </summary>
public sealed class BitLlama2cModel
{
    public const uint Magic = 0x616b3432;
    public const int Version = 1;
    public const int HeaderBytes = 256;

    public required string Path { get; init; }
    public required Llama2cConfig Config { get; init; }
    public required BitOrder BitOrder { get; init; }
    /// <summary>final_norm[dim] (the only norm weight; applied with eps 1e-5 before the classifier).</summary>
    public required float[] FinalNorm { get; init; }
    /// <summary>[vocab_size, dim]; also the classifier.</summary>
    public required FloatMatrix TokenEmbedding { get; init; }
    public required IReadOnlyList<BitLlama2cLayer> Layers { get; init; }

    /// <summary>Names in file order, with [out, in] for a config.</summary>
    public static IReadOnlyList<(string Name, int Rows, int Cols)> MatrixShapes(Llama2cConfig c) =>
    [
        ("wq", c.Dim, c.Dim),
        ("wk", c.KvDim, c.Dim),
        ("wv", c.KvDim, c.Dim),
        ("wo", c.Dim, c.Dim),
        ("w1", c.HiddenDim, c.Dim),
        ("w2", c.Dim, c.HiddenDim),
        ("w3", c.HiddenDim, c.Dim),
    ];

    public static long ExpectedFileSize(Llama2cConfig c)
    {
        long size = HeaderBytes + 4L * c.Dim + 4L * c.VocabSize * c.Dim;
        foreach (var (_, rows, cols) in MatrixShapes(c))
            size += c.NLayers * (4 + (long)rows * cols / 4);
        return size;
    }

    public static BitLlama2cModel Load(string path, BitOrder order = BitOrder.MsbFirst)
    {
        using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var h = new byte[HeaderBytes];
        BinaryReads.Exactly(s, h, path, "the 256-byte header");
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(h);
        if (magic != Magic)
            throw new InvalidDataException($"{path}: magic is 0x{magic:x8}, expected 0x{Magic:x8} (\"ak42\"): not a bitllama2.c model");
        int version = BinaryPrimitives.ReadInt32LittleEndian(h.AsSpan(4));
        if (version != Version)
            throw new InvalidDataException($"{path}: version is {version}, only version {Version} is known");
        int F(int i) => BinaryPrimitives.ReadInt32LittleEndian(h.AsSpan(8 + 4 * i));
        byte shared = h[36];
        var c = new Llama2cConfig(F(0), F(1), F(2), F(3), F(4), F(5), F(6), shared != 0);
        c.Validate(path);
        if (shared > 1)
            throw new InvalidDataException($"{path}: shared_classifier is {shared}, expected 0 or 1");
        // The format has no place for a separate classifier; a file that claims one is not one we can read right.
        if (!c.SharedClassifier)
            throw new InvalidDataException($"{path}: shared_classifier is 0, but the format stores no separate classifier");
        foreach (var (name, rows, cols) in MatrixShapes(c))
        {
            if ((long)rows * cols % 4 != 0)
                throw new InvalidDataException($"{path}: {name} is [{rows}, {cols}], whose element count is not a multiple of 4 as the 2-bit packing needs");
        }
        long expected = ExpectedFileSize(c);
        if (s.Length != expected)
            throw new InvalidDataException(
                $"{path}: file is {s.Length} bytes but its header ({c}) implies {expected}" + (s.Length < expected ? " (truncated)" : " (trailing data)"));

        var finalNorm = BinaryReads.Floats(s, c.Dim, path, "final_norm");
        var emb = new FloatMatrix(c.VocabSize, c.Dim, BinaryReads.Floats(s, (long)c.VocabSize * c.Dim, path, "token_embedding"));

        var shapes = MatrixShapes(c);
        var mats = new TernaryMatrix[shapes.Count][];
        for (int m = 0; m < shapes.Count; m++)
        {
            var (name, rows, cols) = shapes[m];
            mats[m] = new TernaryMatrix[c.NLayers];
            var packed = new byte[rows * cols / 4];
            var scaleBytes = new byte[4];
            for (int l = 0; l < c.NLayers; l++)
            {
                string field = $"layer {l} {name}";
                BinaryReads.Exactly(s, scaleBytes, path, field + " scale");
                float scale = BinaryPrimitives.ReadSingleLittleEndian(scaleBytes);
                if (!float.IsFinite(scale) || scale < 0)
                    throw new InvalidDataException($"{path}: {field} scale is {scale}, expected a finite non-negative mean|W|");
                BinaryReads.Exactly(s, packed, path, field + " codes");
                var values = new sbyte[rows * cols];
                long bad = Unpack(packed, values, order);
                if (bad >= 0)
                    throw new InvalidDataException($"{path}: {field} has the undefined code 10 at element {bad} (row {bad / cols}, column {bad % cols})");
                mats[m][l] = new TernaryMatrix(rows, cols, values, scale);
            }
        }

        var layers = new BitLlama2cLayer[c.NLayers];
        for (int l = 0; l < c.NLayers; l++)
            layers[l] = new BitLlama2cLayer(mats[0][l], mats[1][l], mats[2][l], mats[3][l], mats[4][l], mats[5][l], mats[6][l]);
        return new BitLlama2cModel { Path = path, Config = c, BitOrder = order, FinalNorm = finalNorm, TokenEmbedding = emb, Layers = layers };
    }

    /// <summary>Decodes 2-bit codes; returns the index of the first undefined code (10), or −1.</summary>
    public static long Unpack(ReadOnlySpan<byte> packed, Span<sbyte> values, BitOrder order)
    {
        // Code → value: 00 → 0, 01 → +1, 10 → undefined (marked 2), 11 → −1.
        ReadOnlySpan<sbyte> decode = [0, 1, 2, -1];
        long firstBad = -1;
        for (int i = 0; i < packed.Length; i++)
        {
            int b = packed[i];
            for (int j = 0; j < 4; j++)
            {
                int shift = order == BitOrder.MsbFirst ? 6 - 2 * j : 2 * j;
                sbyte v = decode[(b >> shift) & 3];
                if (v == 2)
                {
                    if (firstBad < 0) firstBad = 4L * i + j;
                    v = 0;
                }
                values[4 * i + j] = v;
            }
        }
        return firstBad;
    }
}
