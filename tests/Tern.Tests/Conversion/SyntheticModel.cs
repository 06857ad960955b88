using Tern.Conversion;
using Tern.Formats;
using Tern.Gguf;
using Tern.Quantization;

namespace Tern.Tests.Conversion;

/// <summary>Dimensions of a synthetic model; <see cref="HeadDim"/> may differ from Hidden/Heads (Falcon3).</summary>
public sealed record ModelDims(int Hidden, int Intermediate, int Layers, int Heads, int KvHeads, int Vocab, int HeadDim)
{
    public int QRows => Heads * HeadDim;

    public int KvRows => KvHeads * HeadDim;
}

/// <summary>How the checkpoint stores its seven projections.</summary>
public enum ProjectionStorage
{
    /// <summary>Float master weights (2B-4T-bf16, 1bitLLM): ternarized by the converter with absmean.</summary>
    Masters,

    /// <summary>transformers' pack_weights uint8 [out/4, in] plus a weight_scale [1].</summary>
    Packed,
}

public enum LmHead
{
    None,
    SameAsEmbedding,
    Own,
}

public sealed record SyntheticOptions
{
    public required SafetensorsDType FloatType { get; init; }
    public required ProjectionStorage Storage { get; init; }
    /// <summary>Packed only: W = W̃ · weight_scale (AutoBitLinear offline) rather than W̃ / weight_scale (BitLinear).</summary>
    public bool WeightScaleMultiplies { get; init; }
    /// <summary>HF name of the norm before o_proj ("self_attn.attn_sub_norm", "self_attn.inner_attn_ln"), or null.</summary>
    public string? AttentionSubNorm { get; init; }
    public string? FfnSubNorm { get; init; }
    public LmHead LmHead { get; init; }
    /// <summary>q/k rows permuted for GGUF "llama" (NORM RoPE).</summary>
    public bool PermuteQk { get; init; }
    public int Seed { get; init; } = 1234;
}

/// <summary>
/// A model in the layout of a real Hugging Face BitNet checkpoint, generated with a fixed seed, together with what
/// its GGUF must hold: every projection's ternary values (in GGUF row order) and scale, every norm, the embedding.
/// </summary>
internal sealed class SyntheticModel
{
    private static readonly (string Hf, string Gguf)[] Projections =
    [
        ("self_attn.q_proj", "attn_q"), ("self_attn.k_proj", "attn_k"), ("self_attn.v_proj", "attn_v"), ("self_attn.o_proj", "attn_output"),
        ("mlp.gate_proj", "ffn_gate"), ("mlp.up_proj", "ffn_up"), ("mlp.down_proj", "ffn_down"),
    ];

    private SyntheticModel(ModelDims dims, SyntheticOptions options, HfTestCheckpoint checkpoint)
    {
        Dims = dims;
        Options = options;
        Checkpoint = checkpoint;
    }

    public ModelDims Dims { get; }

    public SyntheticOptions Options { get; }

    public HfTestCheckpoint Checkpoint { get; }

    /// <summary>GGUF name → ternary values in GGUF row order, the scale s of W = s·W̃, and the ggml shape.</summary>
    public Dictionary<string, (sbyte[] Values, float Scale, long[] Shape)> Ternary { get; } = [];

    /// <summary>GGUF name → F32 values of the 1-D tensors (norms), exactly as the checkpoint holds them.</summary>
    public Dictionary<string, float[]> Norms { get; } = [];

    public Func<long, long, float> Embedding => (r, c) => Expected.Hashed(Options.Seed, r, c);

    public Func<long, long, float>? LmHeadValues => Options.LmHead switch
    {
        LmHead.SameAsEmbedding => Embedding,
        LmHead.Own => (r, c) => Expected.Hashed(Options.Seed + 1, r, c),
        _ => null,
    };

    public static SyntheticModel Build(HfTestCheckpoint checkpoint, ModelDims d, SyntheticOptions o)
    {
        var m = new SyntheticModel(d, o, checkpoint);
        var rng = new Random(o.Seed);
        var ft = o.FloatType;
        checkpoint.AddGenerated("model.embed_tokens.weight", d.Vocab, d.Hidden, ft, m.Embedding);
        for (int l = 0; l < d.Layers; l++)
        {
            string hf = $"model.layers.{l}.", gg = $"blk.{l}.";
            m.AddNorm(rng, hf + "input_layernorm.weight", gg + "attn_norm.weight", d.Hidden);
            m.AddNorm(rng, hf + "post_attention_layernorm.weight", gg + "ffn_norm.weight", d.Hidden);
            foreach (var (hfProj, ggProj) in Projections)
            {
                var (rows, cols) = hfProj switch
                {
                    "self_attn.q_proj" => (d.QRows, d.Hidden),
                    "self_attn.k_proj" or "self_attn.v_proj" => (d.KvRows, d.Hidden),
                    "self_attn.o_proj" => (d.Hidden, d.QRows),
                    "mlp.down_proj" => (d.Hidden, d.Intermediate),
                    _ => (d.Intermediate, d.Hidden),
                };
                int heads = !o.PermuteQk ? 0 : hfProj == "self_attn.q_proj" ? d.Heads : hfProj == "self_attn.k_proj" ? d.KvHeads : 0;
                bool tieCrafted = l == d.Layers - 1 && hfProj == "self_attn.v_proj";
                m.AddProjection(rng, hf + hfProj, gg + ggProj + ".weight", rows, cols, heads, tieCrafted);
            }

            if (o.AttentionSubNorm is { } attnSub)
                m.AddNorm(rng, hf + attnSub + ".weight", gg + "attn_sub_norm.weight", d.QRows);
            if (o.FfnSubNorm is { } ffnSub)
                m.AddNorm(rng, hf + ffnSub + ".weight", gg + "ffn_sub_norm.weight", d.Intermediate);
        }

        m.AddNorm(rng, "model.norm.weight", "output_norm.weight", d.Hidden);
        if (m.LmHeadValues is { } head)
            checkpoint.AddGenerated("lm_head.weight", d.Vocab, d.Hidden, ft, head);
        return m;
    }

    private void AddNorm(Random rng, string hfName, string ggufName, int length)
    {
        var values = Expected.NormWeights(rng, length, Options.FloatType);
        Checkpoint.AddFloats(hfName, values, [length], Options.FloatType);
        Norms[ggufName] = values;
    }

    private void AddProjection(Random rng, string hfPrefix, string ggufName, int rows, int cols, int permuteHeads, bool tieCrafted)
    {
        sbyte[] values;
        float scale;
        if (Options.Storage == ProjectionStorage.Masters)
        {
            float[] w = tieCrafted ? TieMatrix(rng, rows * cols) : Expected.Gaussian(rng, rows * cols, 0.05f, Options.FloatType);
            Checkpoint.AddFloats(hfPrefix + ".weight", w, [rows, cols], Options.FloatType);
            (values, scale) = Expected.Absmean(w);
        }
        else
        {
            values = Expected.RandomTernary(rng, rows * cols);
            // weight_scale as trained checkpoints hold it: ≈ absmean for AutoBitLinear, ≈ 1/absmean for BitLinear.
            float ws = Expected.RoundTo(Options.WeightScaleMultiplies ? 0.5f + rng.NextSingle() : 20f + (40f * rng.NextSingle()), Options.FloatType);
            Checkpoint.AddBytes(hfPrefix + ".weight", Expected.Pack(values, rows, cols), [rows / 4, cols]);
            Checkpoint.AddFloats(hfPrefix + ".weight_scale", [ws], [1], Options.FloatType);
            scale = Options.WeightScaleMultiplies ? ws : 1f / ws;
        }

        if (permuteHeads > 0)
            values = Expected.LlamaPermute(values, rows, cols, permuteHeads);
        Ternary[ggufName] = (values, scale, [cols, rows]);
    }

    /// <summary>
    /// Magnitudes 0.25 and 0.75 in equal numbers, random signs: γ = 0.5 exactly, so W/γ hits ±0.5 (→ 0 with round
    /// half to even, not ±1 as rounding away from zero would give) and ±1.5 (→ ±2, clamped to ±1).
    /// </summary>
    private static float[] TieMatrix(Random rng, int count)
    {
        var w = new float[count];
        for (int i = 0; i < count; i++)
            w[i] = (i % 2 == 0 ? 0.25f : 0.75f) * (rng.Next(2) == 0 ? 1 : -1);
        rng.Shuffle(w);
        return w;
    }

    /// <summary>The GGUF tensor names llama.cpp gives this model's tensors.</summary>
    public SortedSet<string> ExpectedTensorNames(bool withOutput, bool withRopeFreqs)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal) { "token_embd.weight", "output_norm.weight" };
        for (int l = 0; l < Dims.Layers; l++)
        {
            foreach (var n in new[] { "attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down" })
                names.Add($"blk.{l}.{n}.weight");
            if (Options.AttentionSubNorm is not null)
                names.Add($"blk.{l}.attn_sub_norm.weight");
            if (Options.FfnSubNorm is not null)
                names.Add($"blk.{l}.ffn_sub_norm.weight");
        }

        if (withOutput)
            names.Add("output.weight");
        if (withRopeFreqs)
            names.Add("rope_freqs.weight");
        return names;
    }

    /// <summary>
    /// Every tensor of the converted file against the model: projections (ternary values and scale, or s·W̃ in the
    /// float type asked for), norms (F32, exact), token_embd and output in their chosen types. Rows of the
    /// embedding and head are checked every <paramref name="rowStride"/>-th (and the last), to keep big vocabularies quick.
    /// </summary>
    public void AssertTensors(GgufFile file, ConversionOptions options, bool withOutput, bool withRopeFreqs, int rowStride = 1)
    {
        Assert.Equal(ExpectedTensorNames(withOutput, withRopeFreqs), new SortedSet<string>(file.Tensors.Select(t => t.Name), StringComparer.Ordinal));

        foreach (var (name, (values, scale, shape)) in Ternary)
        {
            var t = GgufReads.Tensor(file, name, options.WeightType, shape);
            if (TernaryCodec.IsTernary(options.WeightType))
            {
                GgufReads.AssertTernary(GgufReads.Ternary(file, t), values, scale, options.WeightType, name);
            }
            else
            {
                var expected = values.Select(v => v * scale).ToArray();
                GgufReads.AssertStoredAs(expected, GgufReads.Floats(file, t), options.WeightType, name);
            }
        }

        foreach (var (name, values) in Norms)
        {
            var t = GgufReads.Tensor(file, name, GgmlType.F32, values.Length);
            Assert.Equal(values, GgufReads.Floats(file, t));
        }

        var embeddingType = options.TokenEmbeddingType ?? GgmlType.F16;
        AssertRows(file, GgufReads.Tensor(file, "token_embd.weight", embeddingType, Dims.Hidden, Dims.Vocab), Embedding, rowStride);
        if (withOutput)
        {
            var head = LmHeadValues ?? Embedding; // --untie without lm_head: a copy of the embedding
            AssertRows(file, GgufReads.Tensor(file, "output.weight", options.OutputTensorType ?? embeddingType, Dims.Hidden, Dims.Vocab), head, rowStride);
        }
    }

    private static void AssertRows(GgufFile file, GgufTensorInfo t, Func<long, long, float> value, int stride)
    {
        long rows = t.Shape[1], cols = t.Shape[0];
        var expected = new float[cols];
        var checkedRows = Enumerable.Range(0, (int)((rows + stride - 1) / stride)).Select(i => (long)i * stride).Append(rows - 1).Distinct();
        foreach (long r in checkedRows)
        {
            for (int c = 0; c < cols; c++)
                expected[c] = value(r, c);
            GgufReads.AssertStoredAs(expected, GgufReads.Row(file, t, r), t.Type, $"{t.Name} row {r}");
        }
    }

    /// <summary>The architecture keys llama.cpp and bitnet.cpp read, with this model's values.</summary>
    public void AssertHyperparameters(GgufMetadata m, string arch, int contextLength, float ropeTheta, float rmsEps)
    {
        Assert.Equal(arch, m.GetString("general.architecture"));
        Assert.Equal((uint)contextLength, m.GetUInt32(arch + ".context_length"));
        Assert.Equal((uint)Dims.Hidden, m.GetUInt32(arch + ".embedding_length"));
        Assert.Equal((uint)Dims.Layers, m.GetUInt32(arch + ".block_count"));
        Assert.Equal((uint)Dims.Intermediate, m.GetUInt32(arch + ".feed_forward_length"));
        Assert.Equal((uint)Dims.Heads, m.GetUInt32(arch + ".attention.head_count"));
        Assert.Equal((uint)Dims.KvHeads, m.GetUInt32(arch + ".attention.head_count_kv"));
        Assert.Equal(ropeTheta, m.GetSingle(arch + ".rope.freq_base"));
        Assert.Equal(rmsEps, m.GetSingle(arch + ".attention.layer_norm_rms_epsilon"));
        Assert.Equal((uint)Dims.Vocab, m.GetUInt32(arch + ".vocab_size"));
        Assert.Equal((uint)Dims.HeadDim, m.GetUInt32(arch + ".rope.dimension_count"));
        bool explicitHeadDim = Dims.HeadDim * Dims.Heads != Dims.Hidden;
        Assert.Equal(explicitHeadDim, m.ContainsKey(arch + ".attention.key_length"));
        Assert.Equal(explicitHeadDim, m.ContainsKey(arch + ".attention.value_length"));
        if (explicitHeadDim)
        {
            Assert.Equal((uint)Dims.HeadDim, m.GetUInt32(arch + ".attention.key_length"));
            Assert.Equal((uint)Dims.HeadDim, m.GetUInt32(arch + ".attention.value_length"));
        }

        Assert.Equal(2u, m.GetUInt32("general.quantization_version"));
    }

    /// <summary>llama_ftype of the weight type (llama.h; 40 is bitnet.cpp's MOSTLY_I2_S).</summary>
    public static uint FileType(GgmlType weightType) => weightType switch
    {
        GgmlType.F32 => 0,
        GgmlType.F16 => 1,
        GgmlType.BF16 => 32,
        GgmlType.TQ1_0 => 36,
        GgmlType.TQ2_0 => 37,
        GgmlType.I2_S => 40,
        _ => throw new ArgumentOutOfRangeException(nameof(weightType)),
    };
}
