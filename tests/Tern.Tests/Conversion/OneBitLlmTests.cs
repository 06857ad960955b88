using Tern.Conversion;
using Tern.Formats;
using Tern.Gguf;

namespace Tern.Tests.Conversion;

/// <summary>
/// 1bitLLM/bitnet_b1_58-* in miniature: BitnetForCausalLM (model_type "llama", no quantization_config) with fp16
/// masters, sub-norms named self_attn.inner_attn_ln and mlp.ffn_layernorm, and an embedding of 32,002 rows beside the
/// 32,000-piece Llama 2 tokenizer.model → GGUF "bitnet" with the vocabulary padded by [PAD1], [PAD2].
/// </summary>
public sealed class OneBitLlmTests(OneBitLlmTests.Checkpoint model) : IClassFixture<OneBitLlmTests.Checkpoint>
{
    public sealed class Checkpoint() : BuiltCheckpoint(
        "bitnet_b1_58-large",
        """
        {
          "architectures": [
            "BitnetForCausalLM"
          ],
          "attention_bias": false,
          "attention_dropout": 0.0,
          "bos_token_id": 1,
          "eos_token_id": 2,
          "hidden_act": "silu",
          "hidden_size": 256,
          "initializer_range": 0.02,
          "input_bits": 8,
          "intermediate_size": 512,
          "max_position_embeddings": 2048,
          "model_type": "llama",
          "num_attention_heads": 4,
          "num_hidden_layers": 2,
          "num_key_value_heads": 2,
          "pad_token_id": 32000,
          "pretraining_tp": 1,
          "rms_norm_eps": 1e-05,
          "rope_scaling": null,
          "rope_theta": 10000.0,
          "tie_word_embeddings": true,
          "torch_dtype": "float16",
          "transformers_version": "4.39.0",
          "use_cache": true,
          "vocab_size": 32002,
          "weight_bits": 1
        }
        """,
        new ModelDims(Hidden: 256, Intermediate: 512, Layers: 2, Heads: 4, KvHeads: 2, Vocab: 32002, HeadDim: 64),
        new SyntheticOptions
        {
            FloatType = SafetensorsDType.F16,
            Storage = ProjectionStorage.Masters,
            AttentionSubNorm = "self_attn.inner_attn_ln",
            FfnSubNorm = "mlp.ffn_layernorm",
            Seed = 58,
        },
        c => c.CopyShared("tokenizer.model", "tokenizers", "llama2", "tokenizer.model"));

    [Theory]
    [InlineData(GgmlType.I2_S)]
    [InlineData(GgmlType.TQ2_0)]
    public void ConvertsToBitnetWithAPaddedVocabulary(GgmlType weightType)
    {
        var options = new ConversionOptions { WeightType = weightType };
        using var result = model.Convert(options, $"out-{weightType}.gguf");
        var m = result.Metadata;
        model.Model.AssertHyperparameters(m, "bitnet", contextLength: 2048, ropeTheta: 10000f, rmsEps: 1e-5f);
        Assert.Equal("bitnet_b1_58-large", m.GetString("general.name"));
        Assert.Equal(SyntheticModel.FileType(weightType), m.GetUInt32("general.file_type"));

        Assert.Equal("llama", m.GetString("tokenizer.ggml.model"));
        var tokens = m.GetArray<string>("tokenizer.ggml.tokens");
        var types = m.GetArray<int>("tokenizer.ggml.token_type");
        var scores = m.GetArray<float>("tokenizer.ggml.scores");
        Assert.Equal(32002, tokens.Length);
        Assert.Equal(32002, types.Length);
        Assert.Equal(32002, scores.Length);
        Assert.Equal(["[PAD1]", "[PAD2]"], tokens[32000..]);
        Assert.Equal([5, 5], types[32000..]); // UNUSED
        Assert.Equal([-1000f, -1000f], scores[32000..]);
        Assert.Equal("<s>", tokens[1]);
        Assert.Equal("</s>", tokens[2]);
        Assert.Equal(1u, m.GetUInt32("tokenizer.ggml.bos_token_id"));
        Assert.Equal(2u, m.GetUInt32("tokenizer.ggml.eos_token_id"));
        Assert.Contains(result.Notes, n => n.Contains("[PAD1]", StringComparison.Ordinal));

        model.Model.AssertTensors(result.File, options, withOutput: false, withRopeFreqs: false);
    }

    [Fact]
    public void UntieWritesTheEmbeddingAgainAsOutput()
    {
        var options = new ConversionOptions { WeightType = GgmlType.I2_S, Untie = true, OutputTensorType = GgmlType.Q8_0 };
        using var result = model.Convert(options, "untied.gguf");
        Assert.Contains(result.Notes, n => n.Contains("--untie", StringComparison.Ordinal));
        model.Model.AssertTensors(result.File, options, withOutput: true, withRopeFreqs: false);
    }
}
