using Tern.Conversion;
using Tern.Conversion.HuggingFace;
using Tern.Formats;
using Tern.Gguf;

namespace Tern.Tests.Conversion;

/// <summary>
/// HF1BitLLM/Llama3-8B-1.58-100B-tokens in miniature: LlamaForCausalLM with quantization_config quant_method "bitnet"
/// (default BitLinear: W = W̃ / weight_scale), packed uint8 projections, an untied lm_head and Llama 3.1 rope_scaling
/// → GGUF "llama" with q/k rows permuted for NORM RoPE, output.weight, and rope_freqs.weight.
/// </summary>
public sealed class Llama3BitNetTests(Llama3BitNetTests.Checkpoint model) : IClassFixture<Llama3BitNetTests.Checkpoint>
{
    public sealed class Checkpoint() : BuiltCheckpoint(
        "Llama3-8B-1.58-100B-tokens",
        """
        {
          "architectures": [
            "LlamaForCausalLM"
          ],
          "attention_bias": false,
          "attention_dropout": 0.0,
          "bos_token_id": 128000,
          "eos_token_id": 128001,
          "hidden_act": "silu",
          "hidden_size": 256,
          "initializer_range": 0.02,
          "intermediate_size": 768,
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
          "rms_norm_eps": 1e-05,
          "rope_scaling": {
            "factor": 8.0,
            "high_freq_factor": 4.0,
            "low_freq_factor": 1.0,
            "original_max_position_embeddings": 8192,
            "rope_type": "llama3"
          },
          "rope_theta": 500000.0,
          "tie_word_embeddings": false,
          "torch_dtype": "bfloat16",
          "transformers_version": "4.44.0.dev0",
          "use_cache": true,
          "vocab_size": 128256
        }
        """,
        new ModelDims(Hidden: 256, Intermediate: 768, Layers: 2, Heads: 4, KvHeads: 2, Vocab: 128256, HeadDim: 64),
        new SyntheticOptions
        {
            FloatType = SafetensorsDType.BF16,
            Storage = ProjectionStorage.Packed,
            WeightScaleMultiplies = false,
            LmHead = LmHead.Own,
            PermuteQk = true,
            Seed = 8,
        },
        c => c.CopyLlama3Tokenizer());

    [Fact]
    public void WeightScaleDividesForBitLinear() =>
        Assert.Equal(WeightScaleConvention.Divide, Assert.IsType<HfCheckpointSource>(model.Source).Convention);

    [Fact]
    public void ConvertsToLlamaWithPermutedQkAndRopeFreqs()
    {
        // The mainline llama.cpp target: TQ2_0 projections, F16 embedding, BF16 head.
        var options = new ConversionOptions { WeightType = GgmlType.TQ2_0, OutputTensorType = GgmlType.BF16 };
        using var result = model.Convert(options, "out.gguf");
        var m = result.Metadata;
        model.Model.AssertHyperparameters(m, "llama", contextLength: 8192, ropeTheta: 500000f, rmsEps: 1e-5f);
        Assert.Equal(37u, m.GetUInt32("general.file_type"));
        Assert.Equal("gpt2", m.GetString("tokenizer.ggml.model"));
        Assert.Equal(128256, m.GetArray<string>("tokenizer.ggml.tokens").Length);
        Assert.Equal(128000u, m.GetUInt32("tokenizer.ggml.bos_token_id"));
        Assert.Equal(128001u, m.GetUInt32("tokenizer.ggml.eos_token_id"));

        // q rows permuted with 4 heads and k rows with 2 (n_head_kv): SyntheticModel expects llama.cpp's permute.
        model.Model.AssertTensors(result.File, options, withOutput: true, withRopeFreqs: true, rowStride: 61);

        var freqs = GgufReads.Floats(result.File, GgufReads.Tensor(result.File, "rope_freqs.weight", GgmlType.F32, 32));
        var expected = Expected.Llama3RopeFactors(500000, 64, factor: 8, lowFreqFactor: 1, highFreqFactor: 4, oldContext: 8192);
        Assert.Contains(expected, f => f == 1f);
        Assert.Contains(expected, f => f == 8f);
        Assert.Contains(expected, f => f is > 1f and < 8f);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(MathF.Abs(freqs[i] - expected[i]) <= 1e-5f * expected[i], $"rope_freqs[{i}] is {freqs[i]:R}, expected {expected[i]:R}");
    }
}
