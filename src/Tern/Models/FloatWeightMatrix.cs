using System.Numerics.Tensors;
using Tern.Runtime;

namespace Tern.Models;

/// <summary>A float matrix, row-major (one output per row); also the embedding table, whose rows are looked up.</summary>
public sealed class FloatWeightMatrix(string name, int rows, int columns, float[] values) : WeightMatrix(name, rows, columns), IParallelWork
{
    // The input and output of a product shared with other threads (spans cannot be shared).
    private readonly float[] _x = new float[columns];
    private readonly float[] _y = new float[rows];

    public ReadOnlySpan<float> Row(int row) => values.AsSpan(row * Columns, Columns);

    public override void CopyRow(int row, Span<float> destination) => Row(row).CopyTo(destination);

    public override void Multiply(ReadOnlySpan<float> x, Span<float> y)
    {
        if (!Parallel)
        {
            for (int r = 0; r < Rows; r++)
                y[r] = TensorPrimitives.Dot(Row(r), x);
            return;
        }

        x.CopyTo(_x);
        Pool!.Run(this);
        _y.CopyTo(y);
    }

    void IParallelWork.Execute(int worker, int workers)
    {
        var (start, end) = WorkerPool.Split(Rows, worker, workers);
        for (int r = start; r < end; r++)
            _y[r] = TensorPrimitives.Dot(Row(r), _x);
    }
}
