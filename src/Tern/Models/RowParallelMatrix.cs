using Tern.Runtime;

namespace Tern.Models;

/// <summary>
/// A float-input matrix whose product splits by rows across the pool: the input and output are copied through
/// arrays of the matrix (spans cannot be shared with other threads); subclasses only compute a range of rows.
/// </summary>
public abstract class RowParallelMatrix : WeightMatrix, IParallelWork
{
    private readonly float[] _x;
    private readonly float[] _y;

    protected RowParallelMatrix(string name, int rows, int columns)
        : base(name, rows, columns)
    {
        _x = new float[columns];
        _y = new float[rows];
    }

    /// <summary>Rows [start, end) of W·x into y (indexed by row); <paramref name="worker"/> names the calling worker.</summary>
    protected abstract void ComputeRows(ReadOnlySpan<float> x, Span<float> y, int start, int end, int worker);

    /// <summary>
    /// Called once per product, before the rows are split, with the input: a matrix that quantizes its input
    /// (Q8_0, Q6_K) does it here, once for all workers.
    /// </summary>
    protected virtual void PrepareInput(ReadOnlySpan<float> x)
    {
    }

    /// <summary>Called before a product with the number of workers that will compute it, to size per-worker scratch.</summary>
    protected virtual void PrepareWorkers(int workers)
    {
    }

    public override void Multiply(ReadOnlySpan<float> x, Span<float> y)
    {
        if (!Parallel)
        {
            PrepareWorkers(1);
            PrepareInput(x);
            ComputeRows(x, y, 0, Rows, 0);
            return;
        }

        PrepareWorkers(Pool!.Threads);
        PrepareInput(x);
        x.CopyTo(_x);
        Pool.Run(this);
        _y.CopyTo(y);
    }

    void IParallelWork.Execute(int worker, int workers)
    {
        var (start, end) = WorkerPool.Split(Rows, worker, workers);
        ComputeRows(_x, _y, start, end, worker);
    }
}
