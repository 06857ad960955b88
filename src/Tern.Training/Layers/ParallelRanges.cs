using Tern.Runtime;

namespace Tern.Training.Layers;

/// <summary>Runs a body over [0, count) split into equal ranges across the pool's workers (or inline without one).</summary>
internal static class ParallelRanges
{
    public static void For(WorkerPool? pool, int count, Action<int, int> body)
    {
        if (count <= 0)
            return;
        if (pool is not { Threads: > 1 } || count == 1)
        {
            body(0, count);
            return;
        }

        pool.Run(new RangeWork(count, body));
    }

    private sealed class RangeWork(int count, Action<int, int> body) : IParallelWork
    {
        public void Execute(int worker, int workers)
        {
            var (start, end) = WorkerPool.Split(count, worker, workers);
            if (start < end)
                body(start, end);
        }
    }
}
