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

    public static WeightMatrix Requantize(WeightMatrix head, GgmlType type)
    {
        if (!Types.Contains(type))
            throw new NotSupportedException($"a head cannot be requantized to {GgmlTypeTraits.NameOf(type)}; use one of {string.Join(", ", Types.Select(GgmlTypeTraits.NameOf))}");
        int rows = head.Rows, columns = head.Columns;
        if (type == GgmlType.F32)
        {
            var values = new float[checked((long)rows * columns)];
            EachRowRange(rows, (start, end) =>
            {
                for (int r = start; r < end; r++)
                    head.CopyRow(r, values.AsSpan(r * columns, columns));
            });
            return new FloatWeightMatrix(head.Name, rows, columns, values);
        }

        if (!WeightMatrix.ComputesInPlace(type, columns))
            throw new NotSupportedException($"tensor '{head.Name}': {columns} columns are not whole {GgmlTypeTraits.NameOf(type)} blocks");
        int rowBytes = WeightMatrix.RowBytes(type, columns);
        var bytes = new byte[checked((long)rows * rowBytes)];
        EachRowRange(rows, (start, end) =>
        {
            var row = new float[columns];
            for (int r = start; r < end; r++)
            {
                head.CopyRow(r, row);
                TensorCodec.Encode(type, row, bytes.AsSpan(r * rowBytes, rowBytes));
            }
        });
        return WeightMatrix.InPlace(type, head.Name, rows, columns, MatrixBytes.InMemory(bytes, rowBytes));
    }

    private static void EachRowRange(int rows, Action<int, int> encode) =>
        Parallel.For(0, (rows + RowsPerTask - 1) / RowsPerTask, task => encode(task * RowsPerTask, Math.Min(rows, (task + 1) * RowsPerTask)));
}
