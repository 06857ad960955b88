using System.Runtime.InteropServices;
using Tern.Conversion.Tokenizers;
using Tern.Gguf;
using Tern.Models;
using Tern.Quantization;
using Tern.Training.Model;

namespace Tern.Training.Export;

/// <summary>
/// Reads a GGUF file of an architecture the trainer builds back into its parameters, such that the trainer's forward
/// pass computes what the file holds: a ternary tensor W̃ with scale γ becomes W = W̃ · γ / f (f the fraction of
/// nonzero values), whose absmean quantization gives back exactly W̃ and γ. Used to compare the trainer with the
/// engine on a shipped model, and to continue training from a file.
/// </summary>
public static class GgufModelImport
{
    public sealed record Imported(ModelShape Shape, float[] Parameters, GgufTokenizerData Vocabulary);

    /// <param name="context">The context to build the shape for (default: the file's).</param>
    public static Imported Load(string path, int? context = null)
    {
        using var file = GgufFile.Open(path);
        var config = ModelConfig.FromGguf(file);
        var architecture = config.Architecture switch
        {
            "bitnet-b1.58" or "bitnet-25" => TrainingArchitecture.BitNetB158,
            "llama" => TrainingArchitecture.Llama,
            _ => throw new NotSupportedException($"{path}: architecture '{config.Architecture}' is not one the trainer builds (bitnet-b1.58, llama)"),
        };
        bool quantized = TernaryCodec.IsTernary(file.GetTensor("blk.0.attn_q.weight").Type);
        var shape = new ModelShape
        {
            Architecture = architecture,
            VocabularySize = config.VocabSize,
            Dim = config.EmbeddingLength,
            Layers = config.BlockCount,
            Heads = config.HeadCount,
            KvHeads = config.HeadCountKv,
            FfnDim = config.FeedForwardLength,
            Context = context ?? config.ContextLength,
            RopeTheta = config.RopeFreqBase,
            NormEpsilon = config.RmsNormEpsilon,
            TiedEmbedding = !file.TryGetTensor("output.weight", out _),
            Quantized = quantized,
        };
        if (shape.HeadDim != config.HeadDim)
            throw new NotSupportedException($"{path}: a head size of {config.HeadDim} with width {shape.Dim} and {shape.Heads} heads is not a shape the trainer builds");

        var layout = new ParameterLayout(shape);
        var parameters = new float[layout.Count];
        foreach (var tensor in layout.Tensors)
        {
            var info = file.TryGetTensor(tensor.Name, out var t) ? t : throw new InvalidDataException($"{path}: tensor '{tensor.Name}' is missing");
            if (info.ElementCount != tensor.Length)
                throw new InvalidDataException($"{path}: tensor '{tensor.Name}' has {info.ElementCount} elements; the shape needs {tensor.Length}");
            var target = tensor.Slice(parameters);
            if (tensor.Kind == ParameterKind.Linear && quantized)
                ReadTernary(file, info, target, path);
            else
                ReadFloats(file, info, target, path);
        }

        return new Imported(shape, parameters, GgufTokenizerData.FromMetadata(file.Metadata));
    }

    private static void ReadTernary(GgufFile file, GgufTensorInfo info, Span<float> target, string path)
    {
        if (!TernaryCodec.IsTernary(info.Type))
            throw new InvalidDataException($"{path}: tensor '{info.Name}' is {info.TypeInfo.Name}; the other projections are ternary");
        var decoded = TernaryCodec.DecodeTernary(info.Type, file.GetTensorData(info), info.ElementCount);
        if (!decoded.TryGetUniformScale(out float gamma))
            throw new NotSupportedException($"{path}: tensor '{info.Name}' scales its blocks differently; the trainer keeps one scale per matrix");
        var values = decoded.Values;
        int nonzero = 0;
        foreach (sbyte v in values)
            nonzero += v != 0 ? 1 : 0;
        float magnitude = nonzero == 0 ? 0 : gamma * values.Length / nonzero;
        for (int i = 0; i < values.Length; i++)
            target[i] = values[i] * magnitude;
    }

    private static void ReadFloats(GgufFile file, GgufTensorInfo info, Span<float> target, string path)
    {
        var data = file.GetTensorData(info);
        switch (info.Type)
        {
            case GgmlType.F32:
                MemoryMarshal.Cast<byte, float>(data).CopyTo(target);
                break;
            case GgmlType.F16:
                var halves = MemoryMarshal.Cast<byte, Half>(data);
                for (int i = 0; i < target.Length; i++)
                    target[i] = (float)halves[i];
                break;
            default:
                throw new NotSupportedException($"{path}: tensor '{info.Name}' is {info.TypeInfo.Name}; the trainer reads F32 and F16 floats");
        }
    }
}
