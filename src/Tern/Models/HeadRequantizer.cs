using Tern.Gguf;
using Tern.Quantization;

namespace Tern.Models;

/// <summary>
/// The output head re-encoded at load into another type (<c>--head-type</c>): llama.cpp users pick the head's type
/// when they quantize; here the same file can run with an F16, Q8_0 or Q6_K head. Rows stream from the stored head
/// through a row-sized float buffer into the new encoding, so no F32 copy of the whole head ever exists (2B-4T's
/// would be 1.3 GB). Rows are independent, so they are encoded in parallel.
/// </summary>
public static class HeadRequantizer
{
    /// <summary>The types a head can be requantized to.</summary>
    public static IReadOnlyList<GgmlType> Types { get; } = [GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q6_K];

    private const int RowsPerTask = 256;

    /// <summary>
    /// Requantizes a head stored in <paramref name="file"/>: its rows are read with file reads, not through the map,
    /// so the stored head's pages do not stay resident beside the new one.
    /// </summary>
    public static WeightMatrix Requantize(WeightMatrix head, GgmlType type, GgufFile file, GgufTensorInfo stored)
    {
        if (!TensorCodec.CanDecode(stored.Type))
            return Requantize(head, type);
        long storedRowBytes = TensorCodec.ByteSize(stored.Type, head.Columns);
        return Requantize(head, type, (start, end, rows) =>
        {
            var bytes = file.ReadTensorData(stored, start * storedRowBytes, checked((int)((end - start) * storedRowBytes)));
            for (int r = start; r < end; r++)
                TensorCodec.Decode(stored.Type, bytes.AsSpan(checked((int)((r - start) * storedRowBytes)), (int)storedRowBytes), rows.AsSpan((r - start) * head.Columns, head.Columns));
        });
    }

    public static WeightMatrix Requantize(WeightMatrix head, GgmlType type) =>
        Requantize(head, type, (start, end, rows) =>
        {
            for (int r = start; r < end; r++)
                head.CopyRow(r, rows.AsSpan((r - start) * head.Columns, head.Columns));
        });

    /// <summary>Decodes rows [start, end) of the stored head into a buffer, one row after another.</summary>
    private delegate void RowSource(int start, int end, float[] rows);

    private static WeightMatrix Requantize(WeightMatrix head, GgmlType type, RowSource source)
    {
        if (!Types.Contains(type))
            throw new NotSupportedException($"a head cannot be requantized to {GgmlTypeTraits.NameOf(type)}; use one of {string.Join(", ", Types.Select(GgmlTypeTraits.NameOf))}");
        int rows = head.Rows, columns = head.Columns;
        if (type == GgmlType.F32)
        {
            var values = new float[checked((long)rows * columns)];
            EachRowRange(rows, (start, end) =>
            {
                var buffer = new float[(end - start) * columns];
                source(start, end, buffer);
                buffer.CopyTo(values.AsSpan(start * columns));
            });
            return new FloatWeightMatrix(head.Name, rows, columns, values);
        }

        if (!WeightMatrix.ComputesInPlace(type, columns))
            throw new NotSupportedException($"tensor '{head.Name}': {columns} columns are not whole {GgmlTypeTraits.NameOf(type)} blocks");
        int rowBytes = WeightMatrix.RowBytes(type, columns);
        var bytes = new byte[checked((long)rows * rowBytes)];
        EachRowRange(rows, (start, end) =>
        {
            var buffer = new float[(end - start) * columns];
            source(start, end, buffer);
            for (int r = start; r < end; r++)
                TensorCodec.Encode(type, buffer.AsSpan((r - start) * columns, columns), bytes.AsSpan(r * rowBytes, rowBytes));
        });
        return WeightMatrix.InPlace(type, head.Name, rows, columns, MatrixBytes.InMemory(bytes, rowBytes));
    }

    private static void EachRowRange(int rows, Action<int, int> encode) =>
        Parallel.For(0, (rows + RowsPerTask - 1) / RowsPerTask, task => encode(task * RowsPerTask, Math.Min(rows, (task + 1) * RowsPerTask)));
}
