using Tern.Conversion;
using Tern.Formats;
using Tern.Gguf;

namespace Tern.Tests.Conversion;

/// <summary>
/// tiiuae/Falcon3-*-1.58bit in miniature: LlamaForCausalLM with head_dim written in config.json and different from
/// hidden/heads (4 heads of 128 over a hidden size of 256: q_proj [512, 256], o_proj [256, 512]), packed BitLinear
/// projections, sharded as model.safetensors.index.json + two shards → GGUF "llama" with key_length/value_length.
/// </summary>
public sealed class Falcon3ShardedTests(Falcon3ShardedTests.Checkpoint model) : IClassFixture<Falcon3ShardedTests.Checkpoint>
{
    public sealed class Checkpoint() : BuiltCheckpoint(
        "Falcon3-1B-Instruct-1.58bit",
        """
        {
          "architectures": [
            "LlamaForCausalLM"
          ],
          "attention_bias": false,
          "attention_dropout": 0.0,
          "bos_token_id": 128000,
          "eos_token_id": 128001,
          "head_dim": 128,
          "hidden_act": "silu",
          "hidden_size": 256,
          "initializer_range": 0.02,
          "intermediate_size": 512,
          "max_position_embeddings": 8192,
          "mlp_bias": false,
          "model_type": "llama",
          "num_attention_heads": 4,
          "num_hidden_layers": 2,
          "num_key_value_heads": 2,
          "pretraining_tp": 1,
          "quantization_config": {
            "modules_to_not_convert": null,
            "quant_method": "bitnet"
          },
          "rms_norm_eps": 1e-06,
          "rope_scaling": null,
          "rope_theta": 1000042,
          "tie_word_embeddings": false,
          "torch_dtype": "bfloat16",
          "transformers_version": "4.46.1",
          "use_cache": true,
          "vocab_size": 128256
        }
        """,
        new ModelDims(Hidden: 256, Intermediate: 512, Layers: 2, Heads: 4, KvHeads: 2, Vocab: 128256, HeadDim: 128),
        new SyntheticOptions
        {
            FloatType = SafetensorsDType.BF16,
            Storage = ProjectionStorage.Packed,
            WeightScaleMultiplies = false,
            LmHead = LmHead.Own,
            PermuteQk = true,
            Seed = 3,
        },
        c => c.CopyLlama3Tokenizer(),
        shards: 2);

    [Fact]
    public void TheCheckpointIsShardedInTwo()
    {
        Assert.True(File.Exists(Path.Combine(model.Folder, "model.safetensors.index.json")));
        Assert.True(File.Exists(Path.Combine(model.Folder, "model-00001-of-00002.safetensors")));
        Assert.True(File.Exists(Path.Combine(model.Folder, "model-00002-of-00002.safetensors")));
        Assert.False(File.Exists(Path.Combine(model.Folder, "model.safetensors")));
    }

    [Fact]
    public void ConvertsWithExplicitHeadDim()
    {
        var options = new ConversionOptions { WeightType = GgmlType.TQ1_0, OutputTensorType = GgmlType.F32 };
        using var result = model.Convert(options, "out.gguf");
        var m = result.Metadata;
        // AssertHyperparameters checks key_length = value_length = rope.dimension_count = 128 since 4·128 ≠ 256.
        model.Model.AssertHyperparameters(m, "llama", contextLength: 8192, ropeTheta: 1000042f, rmsEps: 1e-6f);
        Assert.Equal(36u, m.GetUInt32("general.file_type"));
        Assert.Equal(128256, m.GetArray<string>("tokenizer.ggml.tokens").Length);

        GgufReads.Tensor(result.File, "blk.0.attn_q.weight", GgmlType.TQ1_0, 256, 512);
        GgufReads.Tensor(result.File, "blk.0.attn_output.weight", GgmlType.TQ1_0, 512, 256);
        model.Model.AssertTensors(result.File, options, withOutput: true, withRopeFreqs: false, rowStride: 61);
    }
}
