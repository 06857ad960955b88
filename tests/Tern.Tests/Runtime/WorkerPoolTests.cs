using Tern.Models;
using Tern.Quantization;
using Tern.Runtime;

namespace Tern.Tests.Runtime;

public class WorkerPoolTests
{
    private sealed class CountingWork(int workers) : IParallelWork
    {
        public int[] Calls { get; } = new int[workers];

        public void Execute(int worker, int count)
        {
            Assert.Equal(Calls.Length, count);
            Interlocked.Increment(ref Calls[worker]);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void EveryWorkerRunsEachDispatchOnceEvenAfterSleeping(int threads)
    {
        using var pool = new WorkerPool(threads);
        var work = new CountingWork(threads);
        for (int i = 0; i < 2000; i++)
        {
            pool.Run(work);
            // Now and then pause long enough for the workers to stop spinning and sleep: a lost wake-up would hang.
            if (i % 500 == 499)
                Thread.Sleep(20);
        }

        Assert.All(work.Calls, c => Assert.Equal(2000, c));
    }

    [Fact]
    public async Task DispatchesThatMeetWorkersFallingAsleepAreNotLost()
    {
        // Pauses spread around the workers' spin limit (~0.3 ms) make dispatches land while they raise their
        // sleeping flag; a wake-up lost there hangs Run, which the timeout turns into a failure.
        var run = Task.Run(() =>
        {
            using var pool = new WorkerPool(2);
            var work = new CountingWork(2);
            var rng = new Random(3);
            for (int i = 0; i < 3000; i++)
            {
                pool.Run(work);
                var pause = System.Diagnostics.Stopwatch.StartNew();
                double until = 0.1 + (rng.NextDouble() * 0.5);
                while (pause.Elapsed.TotalMilliseconds < until)
                    Thread.SpinWait(10);
            }

            return work.Calls;
        });
        var finished = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(60)));
        Assert.True(finished == run, "a dispatch was lost: Run did not return");
        Assert.All(await run, c => Assert.Equal(3000, c));
    }

    [Fact]
    public void SplitCoversEveryItemOnce()
    {
        foreach (int count in new[] { 0, 1, 7, 64, 6912 })
        {
            foreach (int workers in new[] { 1, 2, 3, 16 })
            {
                int next = 0;
                for (int w = 0; w < workers; w++)
                {
                    var (start, end) = WorkerPool.Split(count, w, workers);
                    Assert.Equal(next, start);
                    next = end;
                }

                Assert.Equal(count, next);
            }
        }
    }

    [Fact]
    public void ParallelProductsEqualSingleThreadedOnesBitForBit()
    {
        var rng = new Random(3);
        const int rows = 333, columns = 640;
        var values = new sbyte[rows * columns];
        var floats = new float[rows * columns];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (sbyte)rng.Next(-1, 2);
            floats[i] = (float)rng.NextDouble() - 0.5f;
        }

        var x = Enumerable.Range(0, columns).Select(_ => (float)rng.NextDouble() * 4 - 2).ToArray();
        using var pool = new WorkerPool(3);
        foreach (var (alone, shared) in new (WeightMatrix, WeightMatrix)[]
        {
            (new TernaryWeightMatrix("t", rows, columns, new TernaryTensor(values, [0.37f], values.Length)),
             new TernaryWeightMatrix("t", rows, columns, new TernaryTensor(values, [0.37f], values.Length)) { Pool = pool }),
            (new FloatWeightMatrix("f", rows, columns, floats), new FloatWeightMatrix("f", rows, columns, floats) { Pool = pool }),
        })
        {
            var y1 = new float[rows];
            var y2 = new float[rows];
            for (int round = 0; round < 3; round++)
            {
                alone.Multiply(x, y1);
                shared.Multiply(x, y2);
                Assert.Equal(y1, y2);
            }
        }
    }
}
