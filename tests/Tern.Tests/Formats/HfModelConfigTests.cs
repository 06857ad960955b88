using System.Text;
using Tern.Formats;

namespace Tern.Tests.Formats;

public class HfModelConfigTests
{
    // microsoft/bitnet-b1.58-2B-4T-bf16 (the master weights; "online" quantization). Text as quoted in a public
    // repository's notes on that checkpoint, found with the code search (find_string "quantization_mode": "online").
    // The packed microsoft/bitnet-b1.58-2B-4T has the same fields with "quantization_mode": "offline" (seen in a
    // copy at huggingface.co/Compumacy/Bitnet-B1.58/blob/main/config.json).
    private const string BitNet2B4T = """
        {
          "architectures": [
            "BitNetForCausalLM"
          ],
          "auto_map": {
            "AutoConfig": "configuration_bitnet.BitNetConfig",
            "AutoModelForCausalLM": "modeling_bitnet.BitNetForCausalLM"
          },
          "bos_token_id": 128000,
          "eos_token_id": 128001,
          "hidden_act": "relu2",
          "hidden_size": 2560,
          "initializer_range": 0.02,
          "intermediate_size": 6912,
          "max_position_embeddings": 4096,
          "model_type": "bitnet",
          "rms_norm_eps": 1e-05,
          "num_attention_heads": 20,
          "num_hidden_layers": 30,
          "num_key_value_heads": 5,
          "rope_theta": 500000.0,
          "tie_word_embeddings": true,
          "torch_dtype": "bfloat16",
          "use_cache": true,
          "vocab_size": 128256,
          "quantization_config": {
            "quant_method": "bitnet",
            "linear_class": "autobitlinear",
            "quantization_mode": "online"
          }
        }
        """;

    // 1bitLLM/bitnet_b1_58-large, from huggingface.co/1bitLLM/bitnet_b1_58-large/blame/85d0471…/config.json (docs search).
    // Note model_type "llama" with architecture "BitnetForCausalLM" (lower-case n), and no quantization_config.
    private const string BitNetLarge = """
        {
          "_name_or_path": "1bitLLM/bitnet_b1_58-large",
          "architectures": [
            "BitnetForCausalLM"
          ],
          "attention_bias": false,
          "attention_dropout": 0.0,
          "bos_token_id": 1,
          "eos_token_id": 2,
          "hidden_act": "silu",
          "hidden_size": 1536,
          "initializer_range": 0.02,
          "input_bits": 8,
          "intermediate_size": 4096,
          "max_position_embeddings": 2048,
          "model_type": "llama",
          "num_attention_heads": 16,
          "num_hidden_layers": 24,
          "num_key_value_heads": 16,
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
        """;

    // HF1BitLLM/Llama3-8B-1.58-100B-tokens: the repository lists a 970-byte config.json; the docs search found a
    // 970-byte copy of it (huggingface.co/Rushi2901/bitnet_b1_58-xl, "_name_or_path" …quantized_model_llama_8B_10) and
    // the sibling HF1BitLLM/Llama3-8B-1.58-Sigmoid-k100-10B-tokens with the same text. It really has
    // "quantization_config" twice; Python's json keeps the last one.
    private const string Llama3_8B_158 = """
        {
          "_name_or_path": "/fsx/mohamed/scripts_training/quantized_model_llama_8B_10",
          "architectures": [
            "LlamaForCausalLM"
          ],
          "attention_bias": false,
          "attention_dropout": 0.0,
          "bos_token_id": 128000,
          "eos_token_id": 128009,
          "hidden_act": "silu",
          "hidden_size": 4096,
          "initializer_range": 0.02,
          "intermediate_size": 14336,
          "is_bitnet_config": true,
          "max_position_embeddings": 8192,
          "mlp_bias": false,
          "model_type": "llama",
          "num_attention_heads": 32,
          "num_hidden_layers": 32,
          "num_key_value_heads": 8,
          "pretraining_tp": 1,
          "quantization_config": {
            "modules_to_not_convert": null,
            "quant_method": "bitnet"
          },
          "rms_norm_eps": 1e-05,
          "rope_interleaved": false,
          "rope_scaling": null,
          "rope_theta": 500000.0,
          "tie_word_embeddings": false,
          "torch_dtype": "bfloat16",
          "transformers_version": "4.44.0.dev0",
          "use_cache": true,
          "vocab_size": 128256,
          "quantization_config": {
            "quant_method": "bitnet"
          }
        }
        """;

    // tiiuae/Falcon3-1B-Instruct-1.58bit, from huggingface.co/tiiuae/Falcon3-1B-Instruct-1.58bit/blob/b932224…/config.json
    // (docs search). No bos_token_id; head_dim 256 ≠ hidden/heads; rope_theta written as an integer.
    private const string Falcon3_1B_158 = """
        {
          "_name_or_path": "/home/ec2-user/checkpoints/falcon3-1b-1bit/hf-1bit",
          "architectures": [
            "LlamaForCausalLM"
          ],
          "attention_bias": false,
          "attention_dropout": 0.0,
          "eos_token_id": 11,
          "head_dim": 256,
          "hidden_act": "silu",
          "hidden_size": 2048,
          "initializer_range": 0.02,
          "intermediate_size": 8192,
          "is_bitnet_config": true,
          "max_position_embeddings": 8192,
          "mlp_bias": false,
          "model_type": "llama",
          "num_attention_heads": 8,
          "num_hidden_layers": 18,
          "num_key_value_heads": 4,
          "pretraining_tp": 1,
          "quantization_config": {
            "modules_to_not_convert": [
              "lm_head"
            ],
            "quant_method": "bitnet"
          },
          "rms_norm_eps": 1e-06,
          "rope_scaling": null,
          "rope_theta": 1000042,
          "tie_word_embeddings": false,
          "torch_dtype": "bfloat16",
          "transformers_version": "4.48.0.dev0",
          "use_cache": true,
          "vocab_size": 131072
        }
        """;

    private static HfModelConfig Load(string json)
    {
        using var tmp = TestData.NewTempFolder();
        string path = tmp.File("config.json");
        File.WriteAllText(path, json);
        return HfModelConfig.Load(path);
    }

    [Fact]
    public void BitNet2B4TBf16()
    {
        var c = Load(BitNet2B4T);
        Assert.Equal("BitNetForCausalLM", c.Architecture);
        Assert.Equal("bitnet", c.ModelType);
        Assert.Equal((2560, 6912, 30, 20, 5, 128256), (c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers, c.NumAttentionHeads, c.NumKeyValueHeads, c.VocabSize));
        Assert.Equal(128, c.HeadDim);
        Assert.Null(c.HeadDimField);
        Assert.Equal(4096, c.MaxPositionEmbeddings);
        Assert.Equal(1e-5, c.RmsNormEps);
        Assert.Equal(500000.0, c.RopeTheta);
        Assert.Equal("relu2", c.HiddenAct);
        Assert.True(c.TieWordEmbeddings);
        Assert.Equal(128000, c.BosTokenId);
        Assert.Equal([128001], c.EosTokenIds);
        Assert.Equal("bfloat16", c.TorchDType);
        Assert.Null(c.RopeScaling);
        var q = c.QuantizationConfig!;
        Assert.True(q.IsBitNet);
        Assert.Equal("autobitlinear", q.LinearClass);
        Assert.Equal("online", q.QuantizationMode);
        Assert.Null(q.ModulesToNotConvert);
        Assert.Contains("\"auto_map\"", c.RawJson, StringComparison.Ordinal);
    }

    [Fact]
    public void BitNetB158Large()
    {
        var c = Load(BitNetLarge);
        Assert.Equal("BitnetForCausalLM", c.Architecture);
        Assert.Equal("llama", c.ModelType);
        Assert.Equal((1536, 4096, 24, 16, 16, 32002), (c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers, c.NumAttentionHeads, c.NumKeyValueHeads, c.VocabSize));
        Assert.Equal(96, c.HeadDim);
        Assert.Equal(1e-5, c.RmsNormEps);
        Assert.Equal(10000.0, c.RopeTheta);
        Assert.Equal("silu", c.HiddenAct);
        Assert.True(c.TieWordEmbeddings);
        Assert.Equal((1, 32000), (c.BosTokenId, c.PadTokenId));
        Assert.Equal([2], c.EosTokenIds);
        Assert.Equal("float16", c.TorchDType);
        Assert.Null(c.RopeScaling); // "rope_scaling": null
        Assert.Null(c.QuantizationConfig);
    }

    [Fact]
    public void Llama3_8B_158_KeepsTheLastOfItsTwoQuantizationConfigs()
    {
        var c = Load(Llama3_8B_158);
        Assert.Equal("LlamaForCausalLM", c.Architecture);
        Assert.Equal((4096, 14336, 32, 32, 8, 128256), (c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers, c.NumAttentionHeads, c.NumKeyValueHeads, c.VocabSize));
        Assert.Equal(128, c.HeadDim);
        Assert.Equal(500000.0, c.RopeTheta);
        Assert.False(c.TieWordEmbeddings);
        Assert.Equal([128009], c.EosTokenIds);
        var q = c.QuantizationConfig!;
        Assert.True(q.IsBitNet);
        Assert.Equal("{\n    \"quant_method\": \"bitnet\"\n  }", q.RawJson.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Falcon3_1BInstruct158()
    {
        var c = Load(Falcon3_1B_158);
        Assert.Equal("LlamaForCausalLM", c.Architecture);
        Assert.Equal((2048, 8192, 18, 8, 4, 131072), (c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers, c.NumAttentionHeads, c.NumKeyValueHeads, c.VocabSize));
        Assert.Equal(256, c.HeadDimField);
        Assert.Equal(256, c.HeadDim); // not 2048 / 8
        Assert.Equal(1e-6, c.RmsNormEps);
        Assert.Equal(1000042.0, c.RopeTheta);
        Assert.Null(c.BosTokenId);
        Assert.Equal([11], c.EosTokenIds);
        Assert.False(c.TieWordEmbeddings);
        Assert.Equal(["lm_head"], c.QuantizationConfig!.ModulesToNotConvert);
    }

    [Fact]
    public void DefaultsAndLlama3RopeScaling()
    {
        // A Llama 3.x shaped config: eos list, llama3 rope_scaling; no kv heads, no rope_theta, no tie flag.
        var c = Load("""
            {
              "architectures": ["LlamaForCausalLM"], "model_type": "llama",
              "hidden_size": 64, "intermediate_size": 172, "num_hidden_layers": 2, "num_attention_heads": 8,
              "vocab_size": 512, "rms_norm_eps": 1e-5, "max_position_embeddings": 131072.0,
              "eos_token_id": [128001, 128008, 128009], "dtype": "bfloat16",
              "rope_scaling": { "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                "original_max_position_embeddings": 8192, "rope_type": "llama3" }
            }
            """);
        Assert.Equal(8, c.NumKeyValueHeads);
        Assert.Equal(10000.0, c.RopeTheta);
        Assert.Null(c.TieWordEmbeddings);
        Assert.Null(c.HiddenAct);
        Assert.Equal(131072, c.MaxPositionEmbeddings);
        Assert.Equal([128001, 128008, 128009], c.EosTokenIds);
        Assert.Equal("bfloat16", c.TorchDType);
        Assert.Equal(new HfRopeScaling("llama3", 8.0, 1.0, 4.0, 8192, c.RopeScaling!.RawJson), c.RopeScaling);
    }

    public static TheoryData<string, string> BrokenConfigs => new()
    {
        { "\"hidden_size\": 2560,", "'hidden_size' is missing" },
        { "\"hidden_size\": 2560,|\"hidden_size\": \"2560\",", "'hidden_size' is \"2560\", expected an integer" },
        { "\"hidden_size\": 2560,|\"hidden_size\": 2560.5,", "'hidden_size' is 2560.5" },
        { "\"hidden_size\": 2560,|\"hidden_size\": -1,", "'hidden_size' is -1" },
        { "\"model_type\": \"bitnet\",", "'model_type' is missing" },
        { "\"model_type\": \"bitnet\",|\"model_type\": 3,", "'model_type' is 3, expected a string" },
        { "\"vocab_size\": 128256,", "'vocab_size' is missing" },
        { "\"rms_norm_eps\": 1e-05,", "'rms_norm_eps' is missing" },
        { "\"num_key_value_heads\": 5,|\"num_key_value_heads\": 3,", "'num_key_value_heads' is 3, which does not divide" },
        { "\"num_attention_heads\": 20,|\"num_attention_heads\": 15,", "'num_attention_heads' is 15, which does not divide hidden_size" },
        { "\"tie_word_embeddings\": true,|\"tie_word_embeddings\": \"yes\",", "'tie_word_embeddings'" },
        { "\"eos_token_id\": 128001,|\"eos_token_id\": [1, \"x\"],", "'eos_token_id'" },
        { "\"quant_method\": \"bitnet\",", "'quantization_config.quant_method' is missing" },
        { "\"linear_class\": \"autobitlinear\",|\"linear_class\": false,", "'quantization_config.linear_class'" },
        { "\"BitNetForCausalLM\"", "'architectures' is empty" },
        { "{|[", "not valid JSON" },
    };

    [Theory]
    [MemberData(nameof(BrokenConfigs))]
    public void ABrokenConfigNamesTheFileAndTheField(string edit, string expected)
    {
        // edit is "old|new", or "old" to delete it.
        var parts = edit.Split('|');
        string json = BitNet2B4T.Replace(parts[0], parts.Length > 1 ? parts[1] : "", StringComparison.Ordinal);
        Assert.NotEqual(BitNet2B4T, json);
        using var tmp = TestData.NewTempFolder();
        string path = tmp.File("config.json");
        File.WriteAllText(path, json, Encoding.UTF8); // with a byte order mark, which must not matter
        var e = Assert.Throws<InvalidDataException>(() => HfModelConfig.Load(path));
        Assert.StartsWith(path + ": ", e.Message, StringComparison.Ordinal);
        Assert.True(e.Message.Contains(expected, StringComparison.Ordinal), e.Message);
    }
}
