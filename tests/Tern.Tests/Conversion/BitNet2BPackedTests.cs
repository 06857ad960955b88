using Tern.Conversion;
using Tern.Conversion.HuggingFace;
using Tern.Formats;
using Tern.Gguf;

namespace Tern.Tests.Conversion;

/// <summary>
/// microsoft/bitnet-b1.58-2B-4T (the packed upload) in miniature: projections as transformers' pack_weights uint8
/// [out/4, in] with a bf16 weight_scale [1] each, AutoBitLinear offline (W = W̃ · weight_scale), and an lm_head.weight
/// that repeats the embedding (stored once unless --untie).
/// </summary>
public sealed class BitNet2BPackedTests(BitNet2BPackedTests.Checkpoint model) : IClassFixture<BitNet2BPackedTests.Checkpoint>
{
    public sealed class Checkpoint() : BuiltCheckpoint(
        "bitnet-b1.58-2B-4T",
        """
        {
          "architectures": ["BitNetForCausalLM"],
          "auto_map": {"AutoConfig": "configuration_bitnet.BitNetConfig", "AutoModelForCausalLM": "modeling_bitnet.BitNetForCausalLM"},
          "bos_token_id": 128000,
          "eos_token_id": 128001,
          "hidden_act": "relu2",
          "hidden_size": 256,
          "initializer_range": 0.02,
          "intermediate_size": 512,
          "max_position_embeddings": 4096,
          "model_type": "bitnet",
          "rms_norm_eps": 1e-05,
          "num_attention_heads": 4,
          "num_hidden_layers": 2,
          "num_key_value_heads": 2,
          "rope_theta": 500000.0,
          "tie_word_embeddings": true,
          "torch_dtype": "bfloat16",
          "use_cache": true,
          "vocab_size": 128256,
          "quantization_config": {"quant_method": "bitnet", "linear_class": "autobitlinear", "quantization_mode": "offline"}
        }
        """,
        new ModelDims(Hidden: 256, Intermediate: 512, Layers: 2, Heads: 4, KvHeads: 2, Vocab: 128256, HeadDim: 64),
        new SyntheticOptions
        {
            FloatType = SafetensorsDType.BF16,
            Storage = ProjectionStorage.Packed,
            WeightScaleMultiplies = true,
            AttentionSubNorm = "self_attn.attn_sub_norm",
            FfnSubNorm = "mlp.ffn_sub_norm",
            LmHead = LmHead.SameAsEmbedding,
            Seed = 77,
        },
        c => c.CopyLlama3Tokenizer());

    [Fact]
    public void WeightScaleMultipliesForAutoBitLinearOffline() =>
        Assert.Equal(WeightScaleConvention.Multiply, Assert.IsType<HfCheckpointSource>(model.Source).Convention);

    [Fact]
    public void StoresTheRepeatedHeadOnce()
    {
        var options = new ConversionOptions { WeightType = GgmlType.I2_S };
        using var result = model.Convert(options, "tied.gguf");
        Assert.Contains(result.Notes, n => n.Contains("stored once", StringComparison.Ordinal));
        model.Model.AssertHyperparameters(result.Metadata, "bitnet-b1.58", contextLength: 4096, ropeTheta: 500000f, rmsEps: 1e-5f);
        Assert.Equal(40u, result.Metadata.GetUInt32("general.file_type"));
        Assert.Equal("gpt2", result.Metadata.GetString("tokenizer.ggml.model"));
        Assert.Equal(128000u, result.Metadata.GetUInt32("tokenizer.ggml.bos_token_id"));
        model.Model.AssertTensors(result.File, options, withOutput: false, withRopeFreqs: false, rowStride: 61);
    }

    [Fact]
    public void UntieStoresBothAndTheyAreEqual()
    {
        var options = new ConversionOptions { WeightType = GgmlType.TQ2_0, Untie = true };
        using var result = model.Convert(options, "untied.gguf");
        Assert.Equal(37u, result.Metadata.GetUInt32("general.file_type"));
        model.Model.AssertTensors(result.File, options, withOutput: true, withRopeFreqs: false, rowStride: 61);
        var file = result.File;
        Assert.True(file.GetTensorData(file.GetTensor("token_embd.weight")).SequenceEqual(file.GetTensorData(file.GetTensor("output.weight"))),
            "output.weight differs from token_embd.weight");
    }
}
