using Tern.Gguf;

namespace Tern.Conversion;

/// <summary>
/// Turns a model source into a GGUF file: chooses each tensor's type, stores a tied head once, and streams the
/// tensors one at a time through the GGUF writer, so memory stays bounded by one chunk of rows whatever the model size.
/// </summary>
public static class ModelConverter
{
    /// <summary>Quantization version llama.cpp writes with quantized files (general.quantization_version).</summary>
    public const uint QuantizationVersion = 2;

    /// <summary>Decides what will be written, without writing: types, sizes and notes.</summary>
    public static ConversionPlan Plan(IModelSource source, ConversionOptions options)
    {
        if (!ConversionOptions.WeightTypes.Contains(options.WeightType))
            throw new ArgumentException($"--type {GgmlTypeTraits.NameOf(options.WeightType)} is not supported; use i2_s, tq2_0, tq1_0, f16, bf16 or f32");
        var embeddingType = options.TokenEmbeddingType ?? GgmlType.F16;
        var outputType = options.OutputTensorType ?? embeddingType;
        foreach (var (flag, t) in new[] { ("--token-embedding-type", embeddingType), ("--output-tensor-type", outputType) })
        {
            if (!ConversionOptions.FloatTensorTypes.Contains(t))
                throw new ArgumentException($"{flag} {GgmlTypeTraits.NameOf(t)} is not supported; use f32, f16, bf16, q8_0 or q4_0");
        }

        var notes = new List<string>(source.Notes);
        var tensors = TiedEmbeddings.Resolve(source.Tensors, options.Untie, notes);
        var planned = new List<PlannedTensor>(tensors.Count);
        foreach (var t in tensors)
        {
            var type = t.Role switch
            {
                TensorRole.TernaryWeight or TensorRole.FloatProjection => options.WeightType,
                TensorRole.TokenEmbedding => embeddingType,
                TensorRole.Output => outputType,
                _ => GgmlType.F32,
            };
            planned.Add(new PlannedTensor(t, type, TensorEncoder.ByteSize(t, type)));
        }

        // llama.cpp's writers put general.* first; keep that order so files diff cleanly against theirs.
        var metadata = new GgufMetadata();
        if (source.Metadata.Architecture is { } arch)
            metadata.Set(GgufKeys.Architecture, arch);
        if ((options.Name ?? source.Metadata.GetStringOrDefault(GgufKeys.Name)) is { } name)
            metadata.Set(GgufKeys.Name, name);
        foreach (var (key, value) in source.Metadata)
        {
            if (key is not (GgufKeys.Architecture or GgufKeys.Name or GgufKeys.FileType or GgufKeys.QuantizationVersion))
                metadata.Add(key, value);
        }

        metadata.Set(GgufKeys.FileType, FileTypes.For(options.WeightType));
        metadata.Set(GgufKeys.QuantizationVersion, QuantizationVersion);
        return new ConversionPlan(source, metadata, planned, notes);
    }

    /// <summary>Writes the planned file (to a temporary name, renamed when complete).</summary>
    public static void Write(ConversionPlan plan, string outputPath, IProgress<ConversionProgress>? progress = null)
    {
        var writer = new GgufWriter(plan.Metadata);
        foreach (var p in plan.Tensors)
            writer.AddTensor(new GgufTensorSource(p.Source.Name, p.Type, p.Source.Shape, p.ByteSize, s => TensorEncoder.Write(p.Source, p.Type, s)));
        long total = plan.Tensors.Sum(t => t.ByteSize);
        long done = 0;
        writer.Write(outputPath, (i, t) =>
        {
            done += t.ByteSize;
            progress?.Report(new ConversionProgress(i + 1, plan.Tensors.Count, t.Name, done, total));
        });
    }
}
