using System.Buffers.Binary;

namespace Tern.Formats;

/// <summary>
/// A float32 model in llama2.c's legacy format (run.c): seven int32 header fields, then tok_embeddings,
/// rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3 (each for all layers), rms_final, freq_cis_real, freq_cis_imag
/// and, when vocab_size was negative, the classifier. The RoPE tables are skipped (recomputed from the config).
/// </summary>
public sealed class Llama2cModel
{
    public required string Path { get; init; }
    public required Llama2cConfig Config { get; init; }
    /// <summary>[vocab_size, dim].</summary>
    public required FloatMatrix TokenEmbedding { get; init; }
    public required IReadOnlyList<Llama2cLayer> Layers { get; init; }
    /// <summary>rms_final_weight[dim].</summary>
    public required float[] RmsFinalWeight { get; init; }
    /// <summary>[vocab_size, dim]; the token embedding itself when the classifier is shared.</summary>
    public required FloatMatrix Classifier { get; init; }

    public const int HeaderBytes = 7 * 4;

    /// <summary>The file size the header implies; a file of any other size is refused.</summary>
    public static long ExpectedFileSize(Llama2cConfig c)
    {
        long dim = c.Dim, hidden = c.HiddenDim, layers = c.NLayers, kv = c.KvDim;
        long floats = c.VocabSize * dim                 // token embedding
            + layers * dim                              // rms_att
            + layers * dim * dim * 2                    // wq, wo
            + layers * dim * kv * 2                     // wk, wv
            + layers * dim                              // rms_ffn
            + layers * dim * hidden * 3                 // w1, w2, w3
            + dim                                       // rms_final
            + (long)c.SeqLen * c.HeadDim                // freq_cis_real and _imag, seq_len · head_dim/2 each
            + (c.SharedClassifier ? 0 : c.VocabSize * dim);
        return HeaderBytes + floats * 4;
    }

    public static Llama2cModel Load(string path)
    {
        using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var h = new byte[HeaderBytes];
        BinaryReads.Exactly(s, h, path, "the 28-byte header");
        int F(int i) => BinaryPrimitives.ReadInt32LittleEndian(h.AsSpan(4 * i));
        int vocab = F(5);
        var c = new Llama2cConfig(F(0), F(1), F(2), F(3), F(4), vocab == int.MinValue ? 0 : Math.Abs(vocab), F(6), vocab > 0);
        c.Validate(path);
        long expected = ExpectedFileSize(c);
        if (s.Length != expected)
            throw new InvalidDataException(
                $"{path}: file is {s.Length} bytes but its header ({c}) implies {expected}" + (s.Length < expected ? " (truncated)" : " (trailing data)"));

        int dim = c.Dim, hidden = c.HiddenDim, kv = c.KvDim, L = c.NLayers;
        var emb = new FloatMatrix(c.VocabSize, dim, BinaryReads.Floats(s, (long)c.VocabSize * dim, path, "token_embedding_table"));
        float[][] PerLayer(long each, string field)
        {
            var r = new float[L][];
            for (int l = 0; l < L; l++)
                r[l] = BinaryReads.Floats(s, each, path, $"{field}[{l}]");
            return r;
        }
        var rmsAtt = PerLayer(dim, "rms_att_weight");
        var wq = PerLayer((long)dim * dim, "wq");
        var wk = PerLayer((long)kv * dim, "wk");
        var wv = PerLayer((long)kv * dim, "wv");
        var wo = PerLayer((long)dim * dim, "wo");
        var rmsFfn = PerLayer(dim, "rms_ffn_weight");
        var w1 = PerLayer((long)hidden * dim, "w1");
        var w2 = PerLayer((long)dim * hidden, "w2");
        var w3 = PerLayer((long)hidden * dim, "w3");
        var rmsFinal = BinaryReads.Floats(s, dim, path, "rms_final_weight");
        BinaryReads.Skip(s, (long)c.SeqLen * c.HeadDim * 4);
        var cls = c.SharedClassifier ? emb : new FloatMatrix(c.VocabSize, dim, BinaryReads.Floats(s, (long)c.VocabSize * dim, path, "wcls"));

        var layers = new Llama2cLayer[L];
        for (int l = 0; l < L; l++)
        {
            layers[l] = new Llama2cLayer(rmsAtt[l],
                new FloatMatrix(dim, dim, wq[l]), new FloatMatrix(kv, dim, wk[l]), new FloatMatrix(kv, dim, wv[l]), new FloatMatrix(dim, dim, wo[l]),
                rmsFfn[l],
                new FloatMatrix(hidden, dim, w1[l]), new FloatMatrix(dim, hidden, w2[l]), new FloatMatrix(hidden, dim, w3[l]));
        }
        return new Llama2cModel { Path = path, Config = c, TokenEmbedding = emb, Layers = layers, RmsFinalWeight = rmsFinal, Classifier = cls };
    }
}
