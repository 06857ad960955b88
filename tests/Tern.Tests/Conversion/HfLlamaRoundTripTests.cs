using Tern.Conversion;
using Tern.Formats;
using Tern.Gguf;

namespace Tern.Tests.Conversion;

/// <summary>
/// stories260K written as a Hugging Face LlamaForCausalLM checkpoint, with q/k permuted as transformers'
/// convert_llama_weights_to_hf.py does (Meta's adjacent pairs → rotate-half halves), must convert to exactly the
/// tensors that converting the llama2.c file directly gives: transformers' permute and llama.cpp's inverse meet.
/// </summary>
public class HfLlamaRoundTripTests
{
    // transformers: w.view(n_heads, dim1 // n_heads // 2, 2, dim2).transpose(1, 2).reshape(dim1, dim2),
    // i.e. HF row h·hd + t·(hd/2) + i holds Meta row h·hd + 2i + t.
    private static float[] HfPermute(FloatMatrix w, int heads)
    {
        int headDim = w.Rows / heads;
        var result = new float[w.Values.Length];
        for (int h = 0; h < heads; h++)
        {
            for (int t = 0; t < 2; t++)
            {
                for (int i = 0; i < headDim / 2; i++)
                {
                    int hfRow = (h * headDim) + (t * headDim / 2) + i, metaRow = (h * headDim) + (2 * i) + t;
                    w.Values.AsSpan(metaRow * w.Cols, w.Cols).CopyTo(result.AsSpan(hfRow * w.Cols, w.Cols));
                }
            }
        }

        return result;
    }

    private static void WriteHfFolder(Llama2cModel model, string folder)
    {
        var c = model.Config;
        File.WriteAllText(Path.Combine(folder, "config.json"), $$"""
            {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu",
             "hidden_size": {{c.Dim}}, "intermediate_size": {{c.HiddenDim}}, "num_hidden_layers": {{c.NLayers}},
             "num_attention_heads": {{c.NHeads}}, "num_key_value_heads": {{c.NKvHeads}}, "vocab_size": {{c.VocabSize}},
             "max_position_embeddings": {{c.SeqLen}}, "rms_norm_eps": 1e-05, "rope_theta": 10000.0,
             "tie_word_embeddings": true, "torch_dtype": "float32", "bos_token_id": 1, "eos_token_id": 2}
            """);
        File.Copy(TestData.SharedDataPath("models", "bitllama2c", "tok512.model"), Path.Combine(folder, "tokenizer.model"));

        var w = new SafetensorsWriter();
        w.Add("model.embed_tokens.weight", model.TokenEmbedding.Values, [c.VocabSize, c.Dim]);
        for (int l = 0; l < c.NLayers; l++)
        {
            var layer = model.Layers[l];
            string p = $"model.layers.{l}.";
            w.Add(p + "input_layernorm.weight", layer.RmsAttWeight, [c.Dim]);
            w.Add(p + "self_attn.q_proj.weight", HfPermute(layer.Wq, c.NHeads), [c.Dim, c.Dim]);
            w.Add(p + "self_attn.k_proj.weight", HfPermute(layer.Wk, c.NKvHeads), [c.KvDim, c.Dim]);
            w.Add(p + "self_attn.v_proj.weight", layer.Wv.Values, [c.KvDim, c.Dim]);
            w.Add(p + "self_attn.o_proj.weight", layer.Wo.Values, [c.Dim, c.Dim]);
            w.Add(p + "post_attention_layernorm.weight", layer.RmsFfnWeight, [c.Dim]);
            w.Add(p + "mlp.gate_proj.weight", layer.W1.Values, [c.HiddenDim, c.Dim]);
            w.Add(p + "mlp.up_proj.weight", layer.W3.Values, [c.HiddenDim, c.Dim]);
            w.Add(p + "mlp.down_proj.weight", layer.W2.Values, [c.Dim, c.HiddenDim]);
        }

        w.Add("model.norm.weight", model.RmsFinalWeight, [c.Dim]);
        w.Write(Path.Combine(folder, "model.safetensors"));
    }

    [Fact]
    public void AHuggingFaceCopyOfStories260KConvertsToTheSameTensorsAsTheLlama2cFile()
    {
        using var dir = TestData.NewTempFolder();
        string llama2c = TestData.SharedDataPath("models", "stories260K", "stories260K.bin");
        string hf = Path.Combine(dir.Path, "hf");
        Directory.CreateDirectory(hf);
        WriteHfFolder(Llama2cModel.Load(llama2c), hf);

        var options = new ConversionOptions { WeightType = GgmlType.F32, TokenEmbeddingType = GgmlType.F32 };
        foreach (var (input, output) in new[] { (llama2c, dir.File("direct.gguf")), (hf, dir.File("hf.gguf")) })
        {
            using var source = ModelSources.Open(input);
            ModelConverter.Write(ModelConverter.Plan(source, options), output);
        }

        using var direct = GgufFile.Open(dir.File("direct.gguf"));
        using var viaHf = GgufFile.Open(dir.File("hf.gguf"));
        Assert.Equal("llama", viaHf.Metadata.Architecture);
        Assert.Equal(direct.Tensors.Select(t => t.Name).Order(), viaHf.Tensors.Select(t => t.Name).Order());
        foreach (var t in direct.Tensors)
        {
            var other = viaHf.GetTensor(t.Name);
            Assert.Equal(t.Type, other.Type);
            Assert.Equal(t.Shape, other.Shape);
            Assert.True(direct.GetTensorData(t).SequenceEqual(viaHf.GetTensorData(other)), $"tensor {t.Name} differs");
        }

        foreach (var key in new[] { "llama.embedding_length", "llama.block_count", "llama.feed_forward_length", "llama.attention.head_count", "llama.attention.head_count_kv", "llama.rope.dimension_count", "llama.context_length", "llama.vocab_size" })
            Assert.Equal(direct.Metadata[key], viaHf.Metadata[key]);
        Assert.Equal(direct.Metadata.GetArray<string>(GgufKeys.TokenizerTokens), viaHf.Metadata.GetArray<string>(GgufKeys.TokenizerTokens));
    }
}
