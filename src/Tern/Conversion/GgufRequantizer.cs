using Tern.Gguf;
using Tern.Quantization;

namespace Tern.Conversion;

/// <summary>
/// Re-encodes the ternary tensors of a GGUF file in another ternary type (I2_S ↔ TQ2_0 ↔ TQ1_0) without changing
/// a single value: tensors are decoded to their ternary values and scales and packed again. Other tensors are
/// copied byte for byte and all metadata is kept (general.file_type follows the new type).
/// </summary>
public static class GgufRequantizer
{
    /// <summary>
    /// What happened to one tensor. <paramref name="ScaleRelativeChange"/> is |fp16(s) − s| / s for an I2_S scale
    /// that TQ's fp16 blocks cannot hold exactly, and 0 when nothing was rounded.
    /// </summary>
    public sealed record TensorResult(string Name, GgmlType From, GgmlType To, string? Note, double ScaleRelativeChange = 0);

    public static IReadOnlyList<TensorResult> Requantize(string inputPath, string outputPath, GgmlType target, IProgress<ConversionProgress>? progress = null)
    {
        if (!TernaryCodec.IsTernary(target))
            throw new ArgumentException($"quantize converts between ternary types; {GgmlTypeTraits.NameOf(target)} is not one (use i2_s, tq2_0 or tq1_0)");
        if (Path.GetFullPath(inputPath) == Path.GetFullPath(outputPath))
            throw new ArgumentException($"{outputPath}: the output must not be the input file");

        using var file = GgufFile.Open(inputPath);
        var metadata = new GgufMetadata();
        foreach (var (key, value) in file.Metadata)
            metadata.Add(key, value);
        metadata.Set(GgufKeys.FileType, FileTypes.For(target));
        if (file.Metadata.ContainsKey(GgufKeys.Alignment))
            metadata[GgufKeys.Alignment] = file.Metadata[GgufKeys.Alignment];

        var results = new List<TensorResult>();
        var writer = new GgufWriter(metadata);
        foreach (var tensor in file.Tensors)
        {
            if (tensor.Type == target || !tensor.TypeInfo.IsTernary)
            {
                writer.AddTensor(new GgufTensorSource(tensor.Name, tensor.Type, tensor.Shape, tensor.ByteSize, s => CopyTensor(file, tensor, s)));
                results.Add(new TensorResult(tensor.Name, tensor.Type, tensor.Type, null));
                continue;
            }

            if (!TernaryCodec.IsTernary(tensor.Type))
                throw new NotSupportedException($"{inputPath}: tensor '{tensor.Name}' is {tensor.TypeInfo.Name}, a kernel-specific layout Tern cannot unpack");

            long size;
            try
            {
                if (tensor.Shape[0] % TernaryCodec.BlockSize(target) != 0)
                    throw new FormatException($"rows of {tensor.Shape[0]} elements are not a multiple of {GgmlTypeTraits.NameOf(target)}'s block of {TernaryCodec.BlockSize(target)}");
                size = GgmlTypeTraits.TensorByteSize(target, tensor.Shape)!.Value;
            }
            catch (FormatException e)
            {
                throw new InvalidDataException($"{inputPath}: tensor '{tensor.Name}' cannot be stored as {GgmlTypeTraits.NameOf(target)}: {e.Message}", e);
            }

            // Decoded when its turn comes, so only one tensor's values are in memory at a time.
            writer.AddTensor(new GgufTensorSource(tensor.Name, target, tensor.Shape, size, s =>
            {
                var decoded = TernaryCodec.DecodeTernary(tensor.Type, file.GetTensorData(tensor), tensor.ElementCount);
                results.Add(Describe(decoded, target, tensor));
                Encode(decoded, target, tensor, size, s, inputPath);
            }));
        }

        int written = 0;
        long total = writer.Tensors.Sum(t => t.ByteSize), done = 0;
        writer.Write(outputPath, (i, t) =>
        {
            done += t.ByteSize;
            progress?.Report(new ConversionProgress(++written, writer.Tensors.Count, t.Name, done, total));
        });
        return results;
    }

    private static TensorResult Describe(TernaryTensor decoded, GgmlType target, GgufTensorInfo tensor)
    {
        // I2_S keeps one float32 scale; TQ blocks keep float16 ones. Going to TQ rounds a scale that F16 cannot hold.
        float scale = decoded.BlockScales[0];
        if (tensor.Type != GgmlType.I2_S || target == GgmlType.I2_S || F16Format.IsExactInHalf(scale))
            return new TensorResult(tensor.Name, tensor.Type, target, null);
        float rounded = (float)(Half)scale;
        return new TensorResult(tensor.Name, tensor.Type, target, $"scale {scale:R} rounds to {rounded:R} in F16 blocks",
            Math.Abs(rounded - (double)scale) / Math.Abs(scale));
    }

    private static void Encode(TernaryTensor decoded, GgmlType target, GgufTensorInfo tensor, long size, Stream output, string path)
    {
        var buffer = new byte[size];
        try
        {
            TernaryCodec.EncodeTernary(target, decoded, buffer);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{path}: tensor '{tensor.Name}' cannot become {GgmlTypeTraits.NameOf(target)} without loss: {e.Message}", e);
        }

        output.Write(buffer);
    }

    private static void CopyTensor(GgufFile file, GgufTensorInfo tensor, Stream output)
    {
        const int chunk = 16 << 20;
        for (long offset = 0; offset < tensor.ByteSize; offset += chunk)
            output.Write(file.GetTensorData(tensor, offset, (int)Math.Min(chunk, tensor.ByteSize - offset)));
    }
}
