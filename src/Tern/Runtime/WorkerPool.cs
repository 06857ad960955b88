namespace Tern.Runtime;

/// <summary>
/// A fixed set of threads that run one piece of work at a time, the calling thread taking part as worker 0.
/// Dispatches within a token come microseconds apart, so idle workers spin on a generation counter for a short while
/// (no lock, no allocation per dispatch) and only then sleep on their own semaphore; a compare-and-swap on each
/// worker's sleeping flag decides who wakes it, so a wake-up is never lost and never doubled.
/// Not reentrant: one <see cref="Run"/> at a time.
/// </summary>
public sealed class WorkerPool : IDisposable
{
    /// <summary>About 0.3 ms of spinning before a worker sleeps.</summary>
    private const int SpinLimit = 200;

    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _wake;
    private readonly int[] _sleeping;
    private IParallelWork? _work;
    private int _generation;
    private int _pending;
    private volatile bool _stopping;

    public WorkerPool(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Threads = threads;
        _threads = new Thread[threads - 1];
        _wake = new SemaphoreSlim[threads];
        _sleeping = new int[threads];
        for (int i = 1; i < threads; i++)
        {
            _wake[i] = new SemaphoreSlim(0);
            int worker = i;
            _threads[i - 1] = new Thread(() => Loop(worker)) { IsBackground = true, Name = $"tern-worker-{i}" };
            _threads[i - 1].Start();
        }
    }

    public int Threads { get; }

    /// <summary>Runs <paramref name="work"/> on every worker and returns when all have finished.</summary>
    public void Run(IParallelWork work)
    {
        if (Threads == 1)
        {
            work.Execute(0, 1);
            return;
        }

        ObjectDisposedException.ThrowIf(_stopping, this);
        _work = work;
        Volatile.Write(ref _pending, Threads - 1);
        Interlocked.Increment(ref _generation);
        WakeSleepers();
        work.Execute(0, Threads);
        var spin = default(SpinWait);
        while (Volatile.Read(ref _pending) != 0)
            spin.SpinOnce(sleep1Threshold: -1);
        _work = null;
    }

    private void WakeSleepers()
    {
        for (int i = 1; i < Threads; i++)
        {
            if (Interlocked.CompareExchange(ref _sleeping[i], 0, 1) == 1)
                _wake[i].Release();
        }
    }

    private void Loop(int worker)
    {
        int seen = 0;
        while (true)
        {
            int spins = 0;
            while (Volatile.Read(ref _generation) == seen && !_stopping)
            {
                if (++spins < SpinLimit)
                {
                    Thread.SpinWait(30);
                    continue;
                }

                // A full fence, not a release store: the flag must be visible before the generation is read again.
                // With Volatile.Write the CPU may read the generation first (x86 reorders a store with a later load);
                // the dispatcher then sees no sleeper and the worker sleeps through the dispatch: a hang, seen once
                // in a long benchmark.
                Interlocked.Exchange(ref _sleeping[worker], 1);
                // Re-check after raising the flag: a dispatch that came in between must not be slept through.
                if (Volatile.Read(ref _generation) != seen || _stopping)
                {
                    // If the dispatcher already took the flag, it released the semaphore: consume that release.
                    if (Interlocked.CompareExchange(ref _sleeping[worker], 0, 1) != 1)
                        _wake[worker].Wait();
                    break;
                }

                _wake[worker].Wait();
                spins = 0;
            }

            if (_stopping)
                return;
            seen = Volatile.Read(ref _generation);
            _work!.Execute(worker, Threads);
            Interlocked.Decrement(ref _pending);
        }
    }

    public void Dispose()
    {
        if (_stopping)
            return;
        _stopping = true;
        Interlocked.Increment(ref _generation);
        WakeSleepers();
        foreach (var t in _threads)
            t.Join();
        foreach (var s in _wake)
            s?.Dispose();
    }

    /// <summary>The half-open range of <paramref name="count"/> items that <paramref name="worker"/> of <paramref name="workers"/> takes.</summary>
    public static (int Start, int End) Split(int count, int worker, int workers) =>
        ((int)((long)count * worker / workers), (int)((long)count * (worker + 1) / workers));
}
