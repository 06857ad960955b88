using System.Text.Json;

namespace Tern.Formats;

/// <summary>
/// The parts of a Hugging Face config.json a converter needs. Required fields must be present with the right JSON
/// type; optional ones are null when absent (no guessing of per-architecture defaults) except where the meaning
/// is fixed: num_key_value_heads defaults to num_attention_heads and rope_theta to 10000, as in LlamaConfig.
/// </summary>
public sealed record HfModelConfig
{
    public required string Path { get; init; }
    /// <summary>architectures[0], e.g. "BitNetForCausalLM", "BitnetForCausalLM", "LlamaForCausalLM".</summary>
    public required string Architecture { get; init; }
    public required IReadOnlyList<string> Architectures { get; init; }
    public required string ModelType { get; init; }
    public required int HiddenSize { get; init; }
    public required int IntermediateSize { get; init; }
    public required int NumHiddenLayers { get; init; }
    public required int NumAttentionHeads { get; init; }
    public required int NumKeyValueHeads { get; init; }
    public required int VocabSize { get; init; }
    public required double RmsNormEps { get; init; }
    public required double RopeTheta { get; init; }
    public int? MaxPositionEmbeddings { get; init; }
    /// <summary>"head_dim" as written; <see cref="HeadDim"/> is what to use.</summary>
    public int? HeadDimField { get; init; }
    /// <summary>
    /// As written, or null when absent. Absent means tied for PretrainedConfig (and BitNetConfig) but untied for
    /// LlamaConfig, so the caller decides with the architecture in hand.
    /// </summary>
    public bool? TieWordEmbeddings { get; init; }
    public string? HiddenAct { get; init; }
    public int? BosTokenId { get; init; }
    /// <summary>eos_token_id as a list (the field may be one id or several); empty when absent.</summary>
    public required IReadOnlyList<int> EosTokenIds { get; init; }
    public int? PadTokenId { get; init; }
    /// <summary>"torch_dtype", or "dtype" as transformers ≥ 4.56 writes it.</summary>
    public string? TorchDType { get; init; }
    public HfRopeScaling? RopeScaling { get; init; }
    public HfQuantizationConfig? QuantizationConfig { get; init; }
    /// <summary>The whole file, for fields this record does not type (weight_bits, input_bits, …).</summary>
    public required string RawJson { get; init; }

    public int HeadDim => HeadDimField ?? HiddenSize / NumAttentionHeads;

    public static HfModelConfig Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException e)
        {
            throw new FileNotFoundException($"{path}: config.json not found", path, e);
        }
        return Parse(bytes, path);
    }

    /// <summary>Parses config.json text; <paramref name="path"/> only names the source in errors.</summary>
    public static HfModelConfig Parse(ReadOnlySpan<byte> utf8Json, string path)
    {
        var doc = StrictJson.Parse(utf8Json, path);
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{path}: config is a JSON {doc.RootElement.ValueKind}, not an object");
            var f = new JsonFields(doc.RootElement, path);

            var architectures = f.OptionalStringArray("architectures") ?? throw f.Error("architectures", "is missing");
            if (architectures.Count == 0)
                throw f.Error("architectures", "is empty");

            int hidden = Positive(f, "hidden_size");
            int heads = Positive(f, "num_attention_heads");
            int kvHeads = f.OptionalInt("num_key_value_heads") ?? heads;
            if (kvHeads <= 0)
                throw f.Error("num_key_value_heads", $"is {kvHeads}, expected a positive integer");
            if (heads % kvHeads != 0)
                throw f.Error("num_key_value_heads", $"is {kvHeads}, which does not divide num_attention_heads {heads}");
            int? headDim = f.OptionalInt("head_dim");
            if (headDim is <= 0)
                throw f.Error("head_dim", $"is {headDim}, expected a positive integer");
            if (headDim is null && hidden % heads != 0)
                throw f.Error("num_attention_heads", $"is {heads}, which does not divide hidden_size {hidden} (and there is no head_dim)");
            double eps = f.RequiredDouble("rms_norm_eps");
            if (!(eps > 0))
                throw f.Error("rms_norm_eps", $"is {eps}, expected a positive number");
            double theta = f.OptionalDouble("rope_theta") ?? 10000.0;
            if (!(theta > 0))
                throw f.Error("rope_theta", $"is {theta}, expected a positive number");

            return new HfModelConfig
            {
                Path = path,
                Architecture = architectures[0],
                Architectures = architectures,
                ModelType = f.RequiredString("model_type"),
                HiddenSize = hidden,
                IntermediateSize = Positive(f, "intermediate_size"),
                NumHiddenLayers = Positive(f, "num_hidden_layers"),
                NumAttentionHeads = heads,
                NumKeyValueHeads = kvHeads,
                VocabSize = Positive(f, "vocab_size"),
                RmsNormEps = eps,
                RopeTheta = theta,
                MaxPositionEmbeddings = f.OptionalInt("max_position_embeddings"),
                HeadDimField = headDim,
                TieWordEmbeddings = f.OptionalBool("tie_word_embeddings"),
                HiddenAct = f.OptionalString("hidden_act"),
                BosTokenId = f.OptionalInt("bos_token_id"),
                EosTokenIds = f.OptionalIntOrIntArray("eos_token_id") ?? [],
                PadTokenId = f.OptionalInt("pad_token_id"),
                TorchDType = f.OptionalString("torch_dtype") ?? f.OptionalString("dtype"),
                RopeScaling = ReadRopeScaling(f),
                QuantizationConfig = ReadQuantization(f),
                RawJson = doc.RootElement.GetRawText(),
            };
        }
    }

    private static int Positive(JsonFields f, string key)
    {
        int v = f.RequiredInt(key);
        return v > 0 ? v : throw f.Error(key, $"is {v}, expected a positive integer");
    }

    private static HfRopeScaling? ReadRopeScaling(JsonFields f)
    {
        if (f.OptionalObject("rope_scaling") is not { } r)
            return null;
        return new HfRopeScaling(
            r.OptionalString("rope_type") ?? r.OptionalString("type"),
            r.OptionalDouble("factor"),
            r.OptionalDouble("low_freq_factor"),
            r.OptionalDouble("high_freq_factor"),
            r.OptionalInt("original_max_position_embeddings"),
            r.Element.GetRawText());
    }

    private static HfQuantizationConfig? ReadQuantization(JsonFields f)
    {
        if (f.OptionalObject("quantization_config") is not { } q)
            return null;
        return new HfQuantizationConfig(
            q.RequiredString("quant_method"),
            q.OptionalString("linear_class"),
            q.OptionalString("quantization_mode"),
            q.OptionalStringArray("modules_to_not_convert"),
            q.Element.GetRawText());
    }
}
