using Tern.Conversion;
using Tern.Formats;
using Tern.Gguf;

namespace Tern.Tests.Conversion;

/// <summary>
/// Broken Hugging Face folders through the converter: each fails with the exception type for its kind of problem and
/// a message that names the file and the tensor or field, and no failure leaves a file (final or temporary) behind.
/// </summary>
public class BadInputTests
{
    private const string Config = """
        {"architectures":["BitNetForCausalLM"],"bos_token_id":1,"eos_token_id":2,"hidden_act":"relu2","hidden_size":256,"intermediate_size":512,"max_position_embeddings":512,"model_type":"bitnet","rms_norm_eps":1e-05,"num_attention_heads":4,"num_hidden_layers":1,"num_key_value_heads":2,"rope_theta":10000.0,"tie_word_embeddings":true,"torch_dtype":"bfloat16","vocab_size":512,"quantization_config":{"quant_method":"bitnet","linear_class":"autobitlinear","quantization_mode":"offline"}}
        """;

    private static readonly ModelDims Dims = new(Hidden: 256, Intermediate: 512, Layers: 1, Heads: 4, KvHeads: 2, Vocab: 512, HeadDim: 64);

    /// <summary>A packed one-layer checkpoint with the 512-piece tokenizer, broken by <paramref name="breakIt"/> before it is written.</summary>
    private sealed class Case : IDisposable
    {
        private readonly TempFolder _temp = TestData.NewTempFolder();

        public Case(Action<HfTestCheckpoint>? breakIt = null, int shards = 1, bool tokenizer = true)
        {
            Folder = Directory.CreateDirectory(_temp.File("model")).FullName;
            OutputFolder = Directory.CreateDirectory(_temp.File("out")).FullName;
            var checkpoint = new HfTestCheckpoint(Folder) { ConfigJson = Config };
            SyntheticModel.Build(checkpoint, Dims, new SyntheticOptions
            {
                FloatType = SafetensorsDType.BF16,
                Storage = ProjectionStorage.Packed,
                WeightScaleMultiplies = true,
                AttentionSubNorm = "self_attn.attn_sub_norm",
                FfnSubNorm = "mlp.ffn_sub_norm",
                Seed = 4,
            });
            if (tokenizer)
                checkpoint.CopyShared("tokenizer.model", "models", "bitllama2c", "tok512.model");
            breakIt?.Invoke(checkpoint);
            checkpoint.Write(shards);
        }

        public string Folder { get; }

        public string OutputFolder { get; }

        public string ConfigPath => Path.Combine(Folder, "config.json");

        public string Shard => Path.Combine(Folder, "model.safetensors");

        /// <summary>Opens and converts; returns what was thrown, after checking the output folder stayed empty.</summary>
        public T Fails<T>(ConversionOptions? options = null)
            where T : Exception
        {
            var e = Assert.Throws<T>(() =>
            {
                using var source = ModelSources.Open(Folder);
                GgufReads.Convert(source, Path.Combine(OutputFolder, "model.gguf"), options ?? new ConversionOptions());
            });
            Assert.Empty(Directory.EnumerateFileSystemEntries(OutputFolder));
            return e;
        }

        public void Dispose() => _temp.Dispose();
    }

    private static void Names(Exception e, params string[] parts)
    {
        foreach (var part in parts)
            Assert.Contains(part, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheUnbrokenCaseConverts()
    {
        using var c = new Case();
        using var source = ModelSources.Open(c.Folder);
        GgufReads.Convert(source, Path.Combine(c.OutputFolder, "model.gguf"), new ConversionOptions());
        Assert.Equal(["model.gguf"], Directory.EnumerateFileSystemEntries(c.OutputFolder).Select(Path.GetFileName));
    }

    [Fact]
    public void ConfigWithoutHiddenSize()
    {
        using var c = new Case(k => k.ConfigJson = Config.Replace("\"hidden_size\":256,", "", StringComparison.Ordinal));
        Names(c.Fails<InvalidDataException>(), c.ConfigPath, "'hidden_size'", "missing");
    }

    [Fact]
    public void ConfigWithHiddenSizeAsAString()
    {
        using var c = new Case(k => k.ConfigJson = Config.Replace("\"hidden_size\":256", "\"hidden_size\":\"256\"", StringComparison.Ordinal));
        Names(c.Fails<InvalidDataException>(), c.ConfigPath, "'hidden_size'", "integer");
    }

    [Fact]
    public void AnUnknownModelClass()
    {
        using var c = new Case(k => k.ConfigJson = Config.Replace("BitNetForCausalLM", "MistralForCausalLM", StringComparison.Ordinal));
        Names(c.Fails<NotSupportedException>(), c.ConfigPath, "MistralForCausalLM");
    }

    [Fact]
    public void AnActivationTheArchitectureDoesNotHave()
    {
        using var c = new Case(k => k.ConfigJson = Config.Replace("relu2", "silu", StringComparison.Ordinal));
        Names(c.Fails<NotSupportedException>(), c.ConfigPath, "hidden_act", "silu");
    }

    [Fact]
    public void AProjectionOfTheWrongShape()
    {
        using var c = new Case(k => k.AddBytes("model.layers.0.self_attn.q_proj.weight", new byte[32 * 256], [32, 256]));
        Names(c.Fails<InvalidDataException>(), c.Shard, "'model.layers.0.self_attn.q_proj.weight'", "[32, 256]", "[64, 256]");
    }

    [Fact]
    public void ANormStoredAsBytes()
    {
        using var c = new Case(k => k.AddBytes("model.layers.0.input_layernorm.weight", new byte[256], [256]));
        Names(c.Fails<InvalidDataException>(), c.Shard, "'model.layers.0.input_layernorm.weight'", "U8");
    }

    [Fact]
    public void APackedTensorWithoutItsWeightScale()
    {
        using var c = new Case(k => k.Tensors.Remove("model.layers.0.self_attn.k_proj.weight_scale"));
        Names(c.Fails<InvalidDataException>(), c.Shard, "'model.layers.0.self_attn.k_proj.weight'", "'model.layers.0.self_attn.k_proj.weight_scale'");
    }

    [Fact]
    public void AWeightScaleOfZero()
    {
        using var c = new Case(k => k.AddFloats("model.layers.0.mlp.up_proj.weight_scale", [0f], [1], SafetensorsDType.BF16));
        Names(c.Fails<InvalidDataException>(), c.Shard, "'model.layers.0.mlp.up_proj.weight_scale'");
    }

    [Fact]
    public void APackedByteHoldingCode3FailsWhileWritingAndLeavesNothing()
    {
        // Found only when the tensor's rows are read, half way through writing the file: the temp file must go too.
        using var c = new Case(k =>
        {
            var packed = new byte[128 * 256];
            Array.Fill(packed, (byte)0b01_01_01_01);
            packed[(77 * 256) + 5] = 0b01_11_01_01; // code 3 for row 2·128 + 77, column 5
            k.AddBytes("model.layers.0.mlp.up_proj.weight", packed, [128, 256]);
        });
        Names(c.Fails<InvalidDataException>(), c.Shard, "'model.layers.0.mlp.up_proj.weight'", "code 3", "packed row 77, column 5");
    }

    [Fact]
    public void AnExtraTensor()
    {
        using var c = new Case(k => k.AddFloats("model.layers.0.mlp.extra_proj.weight", [1f, 2f], [2], SafetensorsDType.BF16));
        Names(c.Fails<InvalidDataException>(), c.Folder, "'model.layers.0.mlp.extra_proj.weight'");
    }

    [Fact]
    public void AMissingTensor()
    {
        using var c = new Case(k => k.Tensors.Remove("model.layers.0.post_attention_layernorm.weight"));
        Names(c.Fails<InvalidDataException>(), c.Folder, "'model.layers.0.post_attention_layernorm.weight'", "missing");
    }

    [Fact]
    public void AnIndexNamingAMissingShard()
    {
        using var c = new Case(shards: 2);
        string shard = Path.Combine(c.Folder, "model-00002-of-00002.safetensors");
        File.Delete(shard);
        Names(c.Fails<InvalidDataException>(), Path.Combine(c.Folder, "model.safetensors.index.json"), "'model-00002-of-00002.safetensors'", "missing");
    }

    [Fact]
    public void UntiedWithoutLmHead()
    {
        using var c = new Case(k => k.ConfigJson = Config.Replace("\"tie_word_embeddings\":true", "\"tie_word_embeddings\":false", StringComparison.Ordinal));
        Names(c.Fails<InvalidDataException>(), c.ConfigPath, "tie_word_embeddings", "lm_head.weight");
    }

    [Fact]
    public void NoTokenizer()
    {
        using var c = new Case(tokenizer: false);
        Names(c.Fails<FileNotFoundException>(), c.Folder, "tokenizer.json", "tokenizer.model");
    }

    [Fact]
    public void NoConfig()
    {
        using var c = new Case();
        File.Delete(c.ConfigPath);
        Names(c.Fails<FileNotFoundException>(), c.Folder, "config.json");
    }

    [Theory]
    [InlineData(GgmlType.Q8_0, null)]
    [InlineData(GgmlType.Q4_K, null)]
    [InlineData(GgmlType.I2_S, GgmlType.TQ2_0)]
    public void TypesThatCannotBeUsed(GgmlType weightType, GgmlType? embeddingType)
    {
        using var c = new Case();
        var e = c.Fails<ArgumentException>(new ConversionOptions { WeightType = weightType, TokenEmbeddingType = embeddingType });
        Names(e, embeddingType is null ? "--type" : "--token-embedding-type");
        Assert.Contains((embeddingType ?? weightType).ToString(), e.Message, StringComparison.OrdinalIgnoreCase);
    }
}
