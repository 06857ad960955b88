using Tern.Conversion.Tokenizers;
using Tern.Formats;
using Tern.Gguf;

namespace Tern.Conversion.HuggingFace;

/// <summary>
/// A Hugging Face folder (config.json, model.safetensors or an index with shards, tokenizer files) as a model
/// source. Every tensor is checked against the shape config.json implies, every tensor of the checkpoint must be
/// placed (or knowingly skipped), and weights are read only when the converter reaches them.
/// </summary>
public sealed class HfCheckpointSource : IModelSource
{
    private readonly SafetensorsCheckpoint _checkpoint;
    private readonly List<SourceTensor> _tensors = [];
    private readonly List<string> _notes = [];
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    private HfCheckpointSource(string folder, HfModelConfig config, SafetensorsCheckpoint checkpoint)
    {
        Folder = folder;
        Config = config;
        _checkpoint = checkpoint;
        Architecture = HfArchitecture.For(config);
        Convention = WeightScaleConventions.From(config.QuantizationConfig);

        int vocab = EmbeddingRows();
        Hyperparameters = new LlamaHyperparameters(
            Architecture.GgufArchitecture,
            config.MaxPositionEmbeddings ?? throw new InvalidDataException($"{config.Path}: max_position_embeddings is missing"),
            config.HiddenSize,
            config.NumHiddenLayers,
            config.IntermediateSize,
            config.NumAttentionHeads,
            config.NumKeyValueHeads,
            (float)config.RopeTheta,
            (float)config.RmsNormEps,
            vocab,
            config.HeadDim);
        Hyperparameters.Validate(config.Path);

        AddTensors();
        CheckEverythingPlaced();
        Metadata = BuildMetadata(folder, vocab);
    }

    public string Folder { get; }

    public HfModelConfig Config { get; }

    internal HfArchitecture Architecture { get; }

    public WeightScaleConvention Convention { get; }

    public LlamaHyperparameters Hyperparameters { get; }

    public string Description { get; private set; } = "";

    public GgufMetadata Metadata { get; }

    public IReadOnlyList<SourceTensor> Tensors => _tensors;

    public IReadOnlyList<string> Notes => _notes;

    /// <summary>Opens a Hugging Face folder (or its config.json).</summary>
    public static HfCheckpointSource Open(string path)
    {
        string folder = File.Exists(path) && Path.GetFileName(path) == "config.json" ? Path.GetDirectoryName(Path.GetFullPath(path))! : path;
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"{path}: not a Hugging Face folder (no such directory)");
        string configPath = Path.Combine(folder, "config.json");
        if (!File.Exists(configPath))
            throw new FileNotFoundException($"{folder}: no config.json; a Hugging Face checkpoint folder needs one", configPath);
        var config = HfModelConfig.Load(configPath);
        var checkpoint = SafetensorsCheckpoint.Open(folder);
        try
        {
            return new HfCheckpointSource(folder, config, checkpoint);
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
    }

    public void Dispose() => _checkpoint.Dispose();

    private int EmbeddingRows()
    {
        var embed = Require("model.embed_tokens.weight");
        if (embed.Info.Shape.Length != 2 || embed.Info.Shape[1] != Config.HiddenSize)
            throw Mismatch(embed, $"[vocab, {Config.HiddenSize}]");
        if (embed.Info.Shape[0] != Config.VocabSize)
            _notes.Add($"config.json says vocab_size {Config.VocabSize}, the embedding has {embed.Info.Shape[0]} rows: the embedding wins");
        return checked((int)embed.Info.Shape[0]);
    }

    private void AddTensors()
    {
        var c = Config;
        int hidden = c.HiddenSize, ff = c.IntermediateSize, headDim = c.HeadDim;
        int qRows = c.NumAttentionHeads * headDim, kvRows = c.NumKeyValueHeads * headDim;
        int vocab = Hyperparameters.VocabSize;

        AddFloat("model.embed_tokens.weight", "token_embd.weight", [vocab, hidden], TensorRole.TokenEmbedding);

        string kind = "";
        for (int layer = 0; layer < c.NumHiddenLayers; layer++)
        {
            string hf = $"model.layers.{layer}.", gg = $"blk.{layer}.";
            AddFloat(hf + "input_layernorm.weight", gg + "attn_norm.weight", [hidden], TensorRole.Float32);
            kind = AddProjection(hf + "self_attn.q_proj", gg + "attn_q", qRows, hidden, Architecture.PermuteQk ? c.NumAttentionHeads : 0);
            AddProjection(hf + "self_attn.k_proj", gg + "attn_k", kvRows, hidden, Architecture.PermuteQk ? c.NumKeyValueHeads : 0);
            AddProjection(hf + "self_attn.v_proj", gg + "attn_v", kvRows, hidden, 0);
            AddProjection(hf + "self_attn.o_proj", gg + "attn_output", hidden, qRows, 0);
            AddFloat(hf + "post_attention_layernorm.weight", gg + "ffn_norm.weight", [hidden], TensorRole.Float32);
            AddProjection(hf + "mlp.gate_proj", gg + "ffn_gate", ff, hidden, 0);
            AddProjection(hf + "mlp.up_proj", gg + "ffn_up", ff, hidden, 0);
            AddProjection(hf + "mlp.down_proj", gg + "ffn_down", hidden, ff, 0);
            if (Architecture.HasSubNorms)
            {
                AddFloat(FirstPresent(hf, HfArchitecture.AttentionSubNormNames), gg + "attn_sub_norm.weight", [qRows], TensorRole.Float32);
                AddFloat(FirstPresent(hf, HfArchitecture.FfnSubNormNames), gg + "ffn_sub_norm.weight", [ff], TensorRole.Float32);
            }
        }

        AddFloat("model.norm.weight", "output_norm.weight", [hidden], TensorRole.Float32);
        if (_checkpoint.Contains("lm_head.weight"))
            AddFloat("lm_head.weight", "output.weight", [vocab, hidden], TensorRole.Output);
        else if (c.TieWordEmbeddings == false)
            throw new InvalidDataException($"{c.Path}: tie_word_embeddings is false but the checkpoint has no lm_head.weight");

        if (Architecture.GgufArchitecture == "llama" && c.RopeScaling is { Type: "llama3" } scaling)
        {
            _tensors.Add(new ComputedTensor("rope_freqs.weight", [headDim / 2], LlamaRopeFrequencies.Compute(scaling, c.RopeTheta, headDim)));
            _notes.Add("rope_scaling llama3: rope_freqs.weight computed as llama.cpp's converter does");
        }
        else if (c.RopeScaling is { } other)
        {
            _notes.Add($"rope_scaling '{other.Type}' is not written (only llama3 scaling is converted)");
        }

        Description = $"Hugging Face {c.Architecture} → GGUF '{Architecture.GgufArchitecture}': {c.NumHiddenLayers} layers, hidden {hidden}, {c.NumAttentionHeads}/{c.NumKeyValueHeads} heads, vocab {vocab}, projections {kind}";
    }

    private string FirstPresent(string prefix, string[] names)
    {
        foreach (var n in names)
        {
            if (_checkpoint.Contains(prefix + n + ".weight"))
                return prefix + n + ".weight";
        }

        return prefix + names[0] + ".weight";
    }

    private SafetensorsTensor Require(string name) =>
        _checkpoint.TryGetTensor(name, out var t) ? t : throw new InvalidDataException($"{Folder}: tensor '{name}' is missing from the checkpoint");

    private static InvalidDataException Mismatch(SafetensorsTensor t, string expected) =>
        new($"{t.File.Path}: tensor '{t.Info.Name}' has shape [{string.Join(", ", t.Info.Shape)}], config.json implies {expected}");

    private void AddFloat(string hfName, string ggufName, long[] hfShape, TensorRole role)
    {
        var t = Require(hfName);
        if (!t.Info.Shape.SequenceEqual(hfShape))
            throw Mismatch(t, $"[{string.Join(", ", hfShape)}]");
        if (!IsFloat(t.Info.DType))
            throw new InvalidDataException($"{t.File.Path}: tensor '{hfName}' is {t.Info.DType}; a float type was expected");
        _used.Add(hfName);
        _tensors.Add(new SafetensorsSourceTensor(ggufName, t, role));
    }

    private static bool IsFloat(SafetensorsDType d) => d is SafetensorsDType.F32 or SafetensorsDType.F16 or SafetensorsDType.BF16 or SafetensorsDType.F64;

    /// <summary>Adds one projection; returns how its weights were stored, for the description.</summary>
    private string AddProjection(string hfPrefix, string ggufPrefix, int outFeatures, int inFeatures, int permuteHeads)
    {
        string weightName = hfPrefix + ".weight", scaleName = hfPrefix + ".weight_scale";
        var weight = Require(weightName);
        _used.Add(weightName);
        SourceTensor tensor;
        string kind;
        bool hasScale = _checkpoint.TryGetTensor(scaleName, out var scaleTensor);
        if (weight.Info.DType is SafetensorsDType.U8 or SafetensorsDType.I8)
        {
            if (!hasScale)
                throw new InvalidDataException($"{weight.File.Path}: tensor '{weightName}' is packed ({weight.Info.DType}) but '{scaleName}' is missing");
            if (weight.Info.Shape.Length != 2 || weight.Info.Shape[1] != inFeatures || weight.Info.Shape[0] * 4 != outFeatures)
                throw Mismatch(weight, $"[{outFeatures / 4}, {inFeatures}] packed four values per byte ({outFeatures} × {inFeatures})");
            tensor = new PackedTernaryTensor(ggufPrefix + ".weight", weightName, weight, outFeatures, ReadScale(scaleTensor!));
            kind = $"packed ternary, weight_scale {(Convention == WeightScaleConvention.Divide ? "divides" : "multiplies")}";
        }
        else
        {
            if (!weight.Info.Shape.SequenceEqual([outFeatures, inFeatures]))
                throw Mismatch(weight, $"[{outFeatures}, {inFeatures}]");
            if (!IsFloat(weight.Info.DType))
                throw new InvalidDataException($"{weight.File.Path}: tensor '{weightName}' is {weight.Info.DType}; expected a float type, or U8 packed ternary");
            if (hasScale)
            {
                tensor = new FloatTernaryTensor(ggufPrefix + ".weight", weight, ReadScale(scaleTensor!));
                kind = "unpacked ternary with weight_scale";
            }
            else
            {
                var role = Config.QuantizationConfig?.IsBitNet == true || Architecture.HasSubNorms ? TensorRole.TernaryWeight : TensorRole.FloatProjection;
                tensor = new SafetensorsSourceTensor(ggufPrefix + ".weight", weight, role);
                kind = role == TensorRole.TernaryWeight
                    ? $"{weight.Info.DType} master weights, ternarized here with absmean"
                    : $"{weight.Info.DType} weights of a model without a BitNet quantization_config (ternarized only if --type is ternary)";
            }
        }

        if (permuteHeads > 0)
            tensor = new RowPermutedTensor(tensor, row => QkPermutation.SourceRow(row, outFeatures, permuteHeads));
        _tensors.Add(tensor);

        if (_checkpoint.TryGetTensor(hfPrefix + ".bias", out var bias))
        {
            _used.Add(hfPrefix + ".bias");
            if (!bias.Info.Shape.SequenceEqual([outFeatures]))
                throw Mismatch(bias, $"[{outFeatures}]");
            SourceTensor b = new SafetensorsSourceTensor(ggufPrefix + ".bias", bias, TensorRole.Float32);
            if (permuteHeads > 0)
                b = new PermutedVector(b, i => QkPermutation.SourceRow(i, outFeatures, permuteHeads));
            _tensors.Add(b);
        }

        return kind;
    }

    private float ReadScale(SafetensorsTensor scale)
    {
        _used.Add(scale.Info.Name);
        long n = scale.Info.Shape.Aggregate(1L, (a, b) => a * b);
        if (n != 1)
            throw new InvalidDataException($"{scale.File.Path}: tensor '{scale.Info.Name}' has {n} elements; one per-tensor scale was expected");
        var value = new float[1];
        scale.ReadRowsAsFloat(0, 1, value);
        try
        {
            return WeightScaleConventions.ScaleOf(value[0], Convention, scale.Info.Name);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{scale.File.Path}: {e.Message}", e);
        }
    }

    private void CheckEverythingPlaced()
    {
        var unplaced = _checkpoint.TensorNames.Where(n => !_used.Contains(n)).ToList();
        var skipped = unplaced.Where(n => n.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal)).ToList();
        if (skipped.Count > 0)
            _notes.Add($"skipped {skipped.Count} rotary_emb.inv_freq buffers (recomputed from rope_theta at run time)");
        var unknown = unplaced.Except(skipped).ToList();
        if (unknown.Count > 0)
            throw new InvalidDataException($"{Folder}: {unknown.Count} tensor(s) have no place in a '{Architecture.GgufArchitecture}' GGUF, e.g. '{unknown[0]}'");
    }

    private GgufMetadata BuildMetadata(string folder, int vocab)
    {
        var m = new GgufMetadata();
        m.Set(GgufKeys.Architecture, Architecture.GgufArchitecture);
        m.Set(GgufKeys.Name, Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder))));
        Hyperparameters.WriteTo(m);
        var tokenizer = TokenizerSource.Detect(folder).Load();
        tokenizer = VocabularyPadding.PadTo(tokenizer, vocab, folder);
        foreach (var w in tokenizer.Warnings)
            _notes.Add(w);
        tokenizer.WriteTo(m);
        return m;
    }
}
