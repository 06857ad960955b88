using Tern.Gguf;
using Tern.Quantization;

namespace Tern.Conversion;

/// <summary>
/// Encodes one source tensor into a GGUF type, a chunk of rows at a time. Ternary projections from float sources
/// take two passes: γ = mean|W| over the whole tensor first, then the rows are quantized with it.
/// </summary>
internal static class TensorEncoder
{
    /// <summary>Rows per chunk are chosen to keep about this many elements in flight (16 MiB of floats).</summary>
    private const long ChunkElements = 4L << 20;

    public static long ByteSize(SourceTensor tensor, GgmlType type)
    {
        try
        {
            CheckRowLength(tensor, type);
            return GgmlTypeTraits.TensorByteSize(type, tensor.Shape)
                ?? throw new NotSupportedException($"cannot write tensor '{tensor.Name}' as {GgmlTypeTraits.NameOf(type)}");
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"tensor '{tensor.Name}' (shape [{string.Join(", ", tensor.Shape)}]) cannot be stored as {GgmlTypeTraits.NameOf(type)}: {e.Message}", e);
        }
    }

    private static void CheckRowLength(SourceTensor tensor, GgmlType type)
    {
        // I2_S blocks run over the flattened tensor; rows must hold whole blocks so that no block straddles two rows.
        int block = type == GgmlType.I2_S ? GgmlTypeTraits.I2SBlockSize : GgmlTypeTraits.Get(type).BlockSize;
        if (tensor.RowLength % block != 0)
            throw new InvalidDataException($"tensor '{tensor.Name}' has rows of {tensor.RowLength} elements; {GgmlTypeTraits.NameOf(type)} needs a multiple of {block} (choose another --type, e.g. one with smaller blocks)");
    }

    public static void Write(SourceTensor tensor, GgmlType type, Stream output)
    {
        bool ternaryTarget = TernaryCodec.IsTernary(type);
        if (tensor.Role == TensorRole.TernaryWeight || (tensor.Role == TensorRole.FloatProjection && ternaryTarget))
        {
            if (ternaryTarget)
                WriteTernary(tensor, type, output);
            else
                WriteTernarizedFloats(tensor, type, output);
            return;
        }

        if (ternaryTarget)
            throw new InvalidDataException($"tensor '{tensor.Name}' is not a ternary projection and cannot be stored as {GgmlTypeTraits.NameOf(type)}");
        WriteFloats(tensor, type, output, (first, count, dst) => tensor.ReadRows(first, count, dst));
    }

    private static int RowsPerChunk(SourceTensor tensor) =>
        (int)Math.Clamp(ChunkElements / tensor.RowLength, 1, Math.Min(tensor.RowCount, int.MaxValue / Math.Max(1, tensor.RowLength)));

    private static float FindScale(SourceTensor tensor)
    {
        if (tensor.HasExactTernary)
            return tensor.TernaryScale;
        int rows = RowsPerChunk(tensor);
        var buffer = new float[rows * tensor.RowLength];
        var accumulator = new AbsmeanAccumulator();
        for (long r = 0; r < tensor.RowCount; r += rows)
        {
            int n = (int)Math.Min(rows, tensor.RowCount - r);
            var span = buffer.AsSpan(0, (int)(n * tensor.RowLength));
            tensor.ReadRows(r, n, span);
            accumulator.Add(span);
        }

        return accumulator.Scale;
    }

    /// <summary>Calls <paramref name="onChunk"/> with the ternary values of consecutive row ranges.</summary>
    private static void ForEachTernaryChunk(SourceTensor tensor, float scale, Action<ReadOnlySpan<sbyte>> onChunk)
    {
        int rows = RowsPerChunk(tensor);
        var values = new sbyte[rows * tensor.RowLength];
        var floats = tensor.HasExactTernary ? null : new float[values.Length];
        for (long r = 0; r < tensor.RowCount; r += rows)
        {
            int n = (int)Math.Min(rows, tensor.RowCount - r);
            int count = (int)(n * tensor.RowLength);
            var q = values.AsSpan(0, count);
            if (floats is null)
            {
                tensor.ReadTernaryRows(r, n, q);
            }
            else
            {
                var x = floats.AsSpan(0, count);
                tensor.ReadRows(r, n, x);
                AbsmeanTernaryQuantizer.QuantizeWithScale(x, scale, q);
            }

            onChunk(q);
        }
    }

    private static void WriteTernary(SourceTensor tensor, GgmlType type, Stream output)
    {
        CheckRowLength(tensor, type);
        float scale = FindScale(tensor);
        byte[] encoded = [];
        ForEachTernaryChunk(tensor, scale, q =>
        {
            // I2_S keeps one scale for the whole tensor after all its codes, so chunks write only codes.
            long size = type == GgmlType.I2_S ? q.Length / 4 : TernaryCodec.ByteSize(type, q.Length);
            if (encoded.Length < size)
                encoded = new byte[size];
            var dst = encoded.AsSpan(0, (int)size);
            if (type == GgmlType.I2_S)
                I2SFormat.EncodeCodes(q, dst);
            else
                TernaryCodec.EncodeTernary(type, q, scale, dst);
            output.Write(dst);
        });
        if (type == GgmlType.I2_S)
        {
            Span<byte> tail = stackalloc byte[I2SFormat.TailBytes];
            I2SFormat.WriteTail(scale, tail);
            output.Write(tail);
        }
    }

    private static void WriteTernarizedFloats(SourceTensor tensor, GgmlType type, Stream output)
    {
        // As llama.cpp's BitNet converter does: a float file of a BitNet model holds the ternarized weights (s·W̃),
        // so that every engine computes the same function as the ternary files.
        float scale = FindScale(tensor);
        var floats = new float[RowsPerChunk(tensor) * tensor.RowLength];
        var encoded = new byte[TensorCodec.ByteSize(type, floats.Length)];
        ForEachTernaryChunk(tensor, scale, q =>
        {
            var x = floats.AsSpan(0, q.Length);
            for (int i = 0; i < q.Length; i++)
                x[i] = q[i] * scale;
            var dst = encoded.AsSpan(0, (int)TensorCodec.ByteSize(type, q.Length));
            TensorCodec.Encode(type, x, dst);
            output.Write(dst);
        });
    }

    private delegate void RowReader(long firstRow, int rowCount, Span<float> destination);

    private static void WriteFloats(SourceTensor tensor, GgmlType type, Stream output, RowReader read)
    {
        CheckRowLength(tensor, type);
        int rows = RowsPerChunk(tensor);
        var floats = new float[rows * tensor.RowLength];
        var encoded = new byte[TensorCodec.ByteSize(type, floats.Length)];
        for (long r = 0; r < tensor.RowCount; r += rows)
        {
            int n = (int)Math.Min(rows, tensor.RowCount - r);
            var x = floats.AsSpan(0, (int)(n * tensor.RowLength));
            read(r, n, x);
            var dst = encoded.AsSpan(0, (int)TensorCodec.ByteSize(type, x.Length));
            TensorCodec.Encode(type, x, dst);
            output.Write(dst);
        }
    }
}
