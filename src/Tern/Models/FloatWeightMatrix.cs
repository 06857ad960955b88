using System.Numerics.Tensors;

namespace Tern.Models;

/// <summary>A float matrix, row-major (one output per row); also the embedding table, whose rows are looked up.</summary>
public sealed class FloatWeightMatrix(string name, int rows, int columns, float[] values) : WeightMatrix(name, rows, columns)
{
    public ReadOnlySpan<float> Row(int row) => values.AsSpan(row * Columns, Columns);

    public override void Multiply(ReadOnlySpan<float> x, Span<float> y)
    {
        for (int r = 0; r < Rows; r++)
            y[r] = TensorPrimitives.Dot(Row(r), x);
    }
}
