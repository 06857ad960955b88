using System.Numerics.Tensors;

namespace Tern.Models;

/// <summary>A float matrix, row-major (one output per row); also the embedding table, whose rows are looked up.</summary>
public sealed class FloatWeightMatrix(string name, int rows, int columns, float[] values) : RowParallelMatrix(name, rows, columns)
{
    public ReadOnlySpan<float> Row(int row) => values.AsSpan(row * Columns, Columns);

    public override void CopyRow(int row, Span<float> destination) => Row(row).CopyTo(destination);

    protected override void ComputeRows(ReadOnlySpan<float> x, Span<float> y, int start, int end, int worker)
    {
        for (int r = start; r < end; r++)
            y[r] = TensorPrimitives.Dot(Row(r), x);
    }
}
