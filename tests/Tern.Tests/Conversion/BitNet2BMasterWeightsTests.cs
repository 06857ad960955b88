using Tern.Conversion;
using Tern.Formats;
using Tern.Gguf;

namespace Tern.Tests.Conversion;

/// <summary>
/// microsoft/bitnet-b1.58-2B-4T-bf16 in miniature: BitNetForCausalLM with bf16 master weights (quantization_mode
/// "online"), relu², attn_sub_norm/ffn_sub_norm, tied embedding, Llama 3 tokenizer → GGUF "bitnet-b1.58" with every
/// projection ternarized by absmean exactly as computed here from the bf16 masters.
/// </summary>
public sealed class BitNet2BMasterWeightsTests(BitNet2BMasterWeightsTests.Checkpoint model) : IClassFixture<BitNet2BMasterWeightsTests.Checkpoint>
{
    public const string FolderName = "bitnet-b1.58-2B-4T-bf16";

    public sealed class Checkpoint() : BuiltCheckpoint(
        FolderName,
        """
        {"architectures":["BitNetForCausalLM"],"auto_map":{"AutoConfig":"configuration_bitnet.BitNetConfig","AutoModelForCausalLM":"modeling_bitnet.BitNetForCausalLM"},"bos_token_id":128000,"eos_token_id":128001,"hidden_act":"relu2","hidden_size":256,"initializer_range":0.02,"intermediate_size":768,"max_position_embeddings":4096,"model_type":"bitnet","rms_norm_eps":1e-05,"num_attention_heads":4,"num_hidden_layers":2,"num_key_value_heads":2,"rope_theta":500000.0,"tie_word_embeddings":true,"torch_dtype":"bfloat16","use_cache":true,"vocab_size":128256,"quantization_config":{"quant_method":"bitnet","linear_class":"autobitlinear","quantization_mode":"online"}}
        """,
        new ModelDims(Hidden: 256, Intermediate: 768, Layers: 2, Heads: 4, KvHeads: 2, Vocab: 128256, HeadDim: 64),
        new SyntheticOptions
        {
            FloatType = SafetensorsDType.BF16,
            Storage = ProjectionStorage.Masters,
            AttentionSubNorm = "self_attn.attn_sub_norm",
            FfnSubNorm = "mlp.ffn_sub_norm",
            Seed = 2025,
        },
        c => c.CopyLlama3Tokenizer());

    [Theory]
    [InlineData(GgmlType.I2_S, null)]
    [InlineData(GgmlType.TQ2_0, GgmlType.Q8_0)]
    [InlineData(GgmlType.TQ1_0, GgmlType.BF16)]
    [InlineData(GgmlType.F16, GgmlType.F32)]
    [InlineData(GgmlType.F32, GgmlType.F16)]
    public void ConvertsToEveryWeightType(GgmlType weightType, GgmlType? embeddingType)
    {
        var options = new ConversionOptions { WeightType = weightType, TokenEmbeddingType = embeddingType };
        using var result = model.Convert(options, $"out-{weightType}.gguf");
        var m = result.Metadata;
        model.Model.AssertHyperparameters(m, "bitnet-b1.58", contextLength: 4096, ropeTheta: 500000f, rmsEps: 1e-5f);
        Assert.Equal(["general.architecture", "general.name"], m.Keys.Take(2));
        Assert.Equal(FolderName, m.GetString("general.name"));
        Assert.Equal(SyntheticModel.FileType(weightType), m.GetUInt32("general.file_type"));
        Assert.Equal("gpt2", m.GetString("tokenizer.ggml.model"));
        var tokens = m.GetArray<string>("tokenizer.ggml.tokens");
        Assert.Equal(128256, tokens.Length);
        Assert.Equal("<|begin_of_text|>", tokens[128000]);
        Assert.Equal(128000u, m.GetUInt32("tokenizer.ggml.bos_token_id"));
        Assert.Equal(128001u, m.GetUInt32("tokenizer.ggml.eos_token_id"));

        // Tied: no output.weight. NEOX RoPE: q/k rows as Hugging Face stores them (no permutation expected).
        model.Model.AssertTensors(result.File, options, withOutput: false, withRopeFreqs: false, rowStride: 61);
    }

    [Fact]
    public void TheTieMatrixRoundsHalvesToEven()
    {
        // The last layer's v_proj holds ±0.25 and ±0.75 with γ = 0.5: ±0.5 → 0, ±1.5 → ±1. Guards the expectation itself.
        var (values, scale, _) = model.Model.Ternary["blk.1.attn_v.weight"];
        Assert.Equal(0.5f, scale);
        Assert.Equal(values.Length / 2, values.Count(v => v == 0));
        Assert.Equal(values.Length / 2, values.Count(v => v != 0));
    }
}
