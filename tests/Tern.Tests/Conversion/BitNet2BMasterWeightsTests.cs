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

    private static readonly ModelDims Dims = new(Hidden: 256, Intermediate: 768, Layers: 2, Heads: 4, KvHeads: 2, Vocab: 128256, HeadDim: 64);

    public sealed class Checkpoint : IDisposable
    {
        private readonly TempFolder _temp = TestData.NewTempFolder();

        public Checkpoint()
        {
            string folder = Directory.CreateDirectory(_temp.File(FolderName)).FullName;
            var checkpoint = new HfTestCheckpoint(folder)
            {
                ConfigJson = """
                    {"architectures":["BitNetForCausalLM"],"auto_map":{"AutoConfig":"configuration_bitnet.BitNetConfig","AutoModelForCausalLM":"modeling_bitnet.BitNetForCausalLM"},"bos_token_id":128000,"eos_token_id":128001,"hidden_act":"relu2","hidden_size":256,"initializer_range":0.02,"intermediate_size":768,"max_position_embeddings":4096,"model_type":"bitnet","rms_norm_eps":1e-05,"num_attention_heads":4,"num_hidden_layers":2,"num_key_value_heads":2,"rope_theta":500000.0,"tie_word_embeddings":true,"torch_dtype":"bfloat16","use_cache":true,"vocab_size":128256,"quantization_config":{"quant_method":"bitnet","linear_class":"autobitlinear","quantization_mode":"online"}}
                    """,
            };
            Model = SyntheticModel.Build(checkpoint, Dims, new SyntheticOptions
            {
                FloatType = SafetensorsDType.BF16,
                Storage = ProjectionStorage.Masters,
                AttentionSubNorm = "self_attn.attn_sub_norm",
                FfnSubNorm = "mlp.ffn_sub_norm",
                Seed = 2025,
            });
            checkpoint.CopyLlama3Tokenizer();
            checkpoint.Write();
            Source = ModelSources.Open(folder);
        }

        internal SyntheticModel Model { get; }

        public IModelSource Source { get; }

        public string OutputFolder => _temp.Path;

        public void Dispose()
        {
            Source.Dispose();
            _temp.Dispose();
        }
    }

    [Theory]
    [InlineData(GgmlType.I2_S, null)]
    [InlineData(GgmlType.TQ2_0, GgmlType.F32)]
    [InlineData(GgmlType.TQ1_0, GgmlType.BF16)]
    [InlineData(GgmlType.F16, GgmlType.Q8_0)]
    [InlineData(GgmlType.F32, GgmlType.F16)]
    [InlineData(GgmlType.BF16, null)]
    public void ConvertsToEveryWeightType(GgmlType weightType, GgmlType? embeddingType)
    {
        var options = new ConversionOptions { WeightType = weightType, TokenEmbeddingType = embeddingType };
        string output = Path.Combine(model.OutputFolder, $"out-{weightType}.gguf");
        try
        {
            GgufReads.Convert(model.Source, output, options);
            using var file = GgufFile.Open(output);
            var m = file.Metadata;
            model.Model.AssertHyperparameters(m, "bitnet-b1.58", contextLength: 4096, ropeTheta: 500000f, rmsEps: 1e-5f);
            Assert.Equal(FolderName, m.GetString("general.name"));
            Assert.Equal(SyntheticModel.FileType(weightType), m.GetUInt32("general.file_type"));
            Assert.Equal("gpt2", m.GetString("tokenizer.ggml.model"));
            Assert.Equal(128256, m.GetArray<string>("tokenizer.ggml.tokens").Length);
            Assert.Equal("<|begin_of_text|>", m.GetArray<string>("tokenizer.ggml.tokens")[128000]);
            Assert.Equal(128000u, m.GetUInt32("tokenizer.ggml.bos_token_id"));
            Assert.Equal(128001u, m.GetUInt32("tokenizer.ggml.eos_token_id"));
            Assert.Equal(["general.architecture", "general.name"], m.Keys.Take(2));

            // Tied: no output.weight; NEOX RoPE: no q/k permutation (SyntheticOptions.PermuteQk is false).
            model.Model.AssertTensors(file, options, withOutput: false, withRopeFreqs: false, rowStride: 61);
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public void TheTieMatrixRoundsHalvesToEven()
    {
        // Layer 1's v_proj holds ±0.25 and ±0.75 with γ = 0.5: ±0.5 → 0, ±1.5 → ±1. Guard the expectation itself.
        var (values, scale, _) = model.Model.Ternary["blk.1.attn_v.weight"];
        Assert.Equal(0.5f, scale);
        Assert.Equal(values.Length / 2, values.Count(v => v == 0));
        Assert.Equal(values.Length / 2, values.Count(v => v != 0));
    }
}
