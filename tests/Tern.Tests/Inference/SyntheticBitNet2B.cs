using System.Security.Cryptography;
using Tern.Conversion;
using Tern.Formats;
using Tern.Gguf;
using Tern.Tests.Conversion;

namespace Tern.Tests.Inference;

/// <summary>
/// A miniature microsoft/bitnet-b1.58-2B-4T in the packed upload's layout (BitNetForCausalLM, AutoBitLinear offline:
/// uint8 pack_weights [out/4, in] and a bf16 weight_scale per projection, attn_sub_norm and ffn_sub_norm, ReLU², GQA,
/// tied head, Llama 3 tokenizer), every value derived from integer hashes of a fixed seed. No floating-point
/// library function touches the weights, so the checkpoint, and the GGUF Tern converts it to, is the same file on
/// every machine; <see cref="TensorDigest"/> pins it, so peers' numbers recorded from one copy hold for every copy.
/// </summary>
/// <remarks>
/// The weight scales are chosen so the model is not degenerate: each block's output outweighs the residual it is
/// added to (otherwise the tied head mostly repeats the input token) and the logits spread over several units.
/// </remarks>
internal static class SyntheticBitNet2B
{
    public const int Hidden = 256, Intermediate = 512, Layers = 3, Heads = 4, KvHeads = 2, Vocab = 128256, HeadDim = Hidden / Heads;

    private const int Seed = 20261122;

    /// <summary>
    /// o_proj's weight_scale, 2^-9: the attention branch adds a small share to the residual stream. bitnet.cpp keeps
    /// V (and the attention weights) in F16, and BitNet's per-token int8 activations turn such 1e-4 roundings into
    /// different integers downstream, so with a full-weight attention branch bitnet.cpp's own code paths (batch or
    /// token-by-token prompt, F16 or F32 K cache, flash attention) already disagree from the second generated token.
    /// </summary>
    private const float AttentionOutputScale = 1f / 512;

    private const string Config = """
        {
          "architectures": ["BitNetForCausalLM"],
          "bos_token_id": 128000,
          "eos_token_id": 128001,
          "hidden_act": "relu2",
          "hidden_size": 256,
          "intermediate_size": 512,
          "max_position_embeddings": 4096,
          "model_type": "bitnet",
          "rms_norm_eps": 1e-05,
          "num_attention_heads": 4,
          "num_hidden_layers": 3,
          "num_key_value_heads": 2,
          "rope_theta": 500000.0,
          "tie_word_embeddings": true,
          "torch_dtype": "bfloat16",
          "vocab_size": 128256,
          "quantization_config": {"quant_method": "bitnet", "linear_class": "autobitlinear", "quantization_mode": "offline"}
        }
        """;

    /// <summary>(HF name, rows, columns, weight_scale): W = W̃ · weight_scale, every scale exact in bf16.</summary>
    private static IEnumerable<(string Name, int Rows, int Columns, float Scale)> Projections(int layer)
    {
        string p = $"model.layers.{layer}.";
        yield return (p + "self_attn.q_proj", Heads * HeadDim, Hidden, 0.125f);
        yield return (p + "self_attn.k_proj", KvHeads * HeadDim, Hidden, 0.125f);
        yield return (p + "self_attn.v_proj", KvHeads * HeadDim, Hidden, 0.25f);
        yield return (p + "self_attn.o_proj", Hidden, Heads * HeadDim, AttentionOutputScale);
        yield return (p + "mlp.gate_proj", Intermediate, Hidden, 0.125f);
        yield return (p + "mlp.up_proj", Intermediate, Hidden, 0.125f);
        yield return (p + "mlp.down_proj", Hidden, Intermediate, 0.125f);
    }

    /// <summary>Writes the Hugging Face folder (config.json, model.safetensors, the Llama 3 tokenizer files).</summary>
    public static void WriteCheckpoint(string folder)
    {
        var checkpoint = new HfTestCheckpoint(folder) { ConfigJson = Config };
        checkpoint.AddGenerated("model.embed_tokens.weight", Vocab, Hidden, SafetensorsDType.BF16, (r, c) => Expected.Hashed(Seed, r, c));
        ulong stream = 1;
        for (int l = 0; l < Layers; l++)
        {
            string p = $"model.layers.{l}.";
            checkpoint.AddFloats(p + "input_layernorm.weight", NormWeights(stream++, Hidden), [Hidden], SafetensorsDType.BF16);
            checkpoint.AddFloats(p + "post_attention_layernorm.weight", NormWeights(stream++, Hidden), [Hidden], SafetensorsDType.BF16);
            foreach (var (name, rows, columns, scale) in Projections(l))
            {
                var values = new sbyte[rows * columns];
                for (int i = 0; i < values.Length; i++)
                    values[i] = (sbyte)((int)(Mix(stream, (ulong)i) % 3) - 1);
                stream++;
                checkpoint.AddBytes(name + ".weight", Expected.Pack(values, rows, columns), [rows / 4, columns]);
                checkpoint.AddFloats(name + ".weight_scale", [scale], [1], SafetensorsDType.BF16);
            }

            checkpoint.AddFloats(p + "self_attn.attn_sub_norm.weight", NormWeights(stream++, Hidden), [Hidden], SafetensorsDType.BF16);
            checkpoint.AddFloats(p + "mlp.ffn_sub_norm.weight", NormWeights(stream++, Intermediate), [Intermediate], SafetensorsDType.BF16);
        }

        checkpoint.AddFloats("model.norm.weight", NormWeights(stream, Hidden), [Hidden], SafetensorsDType.BF16);
        checkpoint.CopyLlama3Tokenizer();
        checkpoint.Write();
    }

    /// <summary>Converts the checkpoint folder to GGUF as `tern convert` does.</summary>
    public static void Convert(string folder, string output, ConversionOptions options)
    {
        using var source = ModelSources.Open(folder);
        GgufReads.Convert(source, output, options);
    }

    /// <summary>
    /// SHA-256 over every tensor's name, type, shape and bytes, in file order: what the engines compute with.
    /// Metadata is left out on purpose, so a new informational key does not invalidate the peers' numbers.
    /// </summary>
    public static string TensorDigest(string gguf)
    {
        using var file = GgufFile.Open(gguf);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var t in file.Tensors)
        {
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes($"{t.Name}:{(int)t.Type}:{string.Join('x', t.Shape)};"));
            sha.AppendData(file.GetTensorData(t));
        }

        return System.Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>0.75 … 1.24 in steps of 1/128: exact in bf16.</summary>
    private static float[] NormWeights(ulong stream, int length)
    {
        var w = new float[length];
        for (int i = 0; i < length; i++)
            w[i] = 0.75f + ((Mix(stream ^ 0x5EED, (ulong)i) % 64) / 128f);
        return w;
    }

    /// <summary>splitmix64 of (seed, stream, index): integer arithmetic only, so identical everywhere.</summary>
    private static ulong Mix(ulong stream, ulong index)
    {
        ulong z = unchecked((ulong)Seed * 0x9E3779B97F4A7C15UL) ^ (stream * 0xD1B54A32D192ED03UL) ^ (index * 0xABC98388FB8AC5D3UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
