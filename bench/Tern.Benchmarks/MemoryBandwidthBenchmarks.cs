using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using Tern.Runtime;

namespace Tern.Benchmarks;

/// <summary>
/// This machine's read bandwidth, the roofline for decode: a 1 GiB buffer (far beyond the caches) summed as 64-bit
/// integers with 512-bit loads and four independent sums, its halves split across the threads as the kernels split rows.
/// </summary>
[Config(typeof(CodecConfig))]
public class MemoryBandwidthBenchmarks : IDisposable
{
    private const long Bytes = 1L << 30;

    private long[] _buffer = null!;
    private WorkerPool _pool = null!;
    private Summation _sum = null!;

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _buffer = GC.AllocateUninitializedArray<long>((int)(Bytes / sizeof(long)));
        new Random(3).NextBytes(MemoryMarshal.AsBytes(_buffer.AsSpan()));
        _pool = new WorkerPool(Threads);
        _sum = new Summation(_buffer);
    }

    [GlobalCleanup]
    public void Dispose() => _pool?.Dispose();

    [Benchmark]
    [Throughput(Bytes)]
    public long Read()
    {
        _pool.Run(_sum);
        return _sum.Total;
    }

    private sealed class Summation(long[] buffer) : IParallelWork
    {
        private readonly long[] _partial = new long[64];

        public long Total => _partial.Sum();

        public void Execute(int worker, int workers)
        {
            var (start, end) = WorkerPool.Split(buffer.Length / 32, worker, workers);
            ref long b = ref MemoryMarshal.GetArrayDataReference(buffer);
            Vector512<long> s0 = default, s1 = default, s2 = default, s3 = default;
            for (nuint i = (nuint)start * 32; i < (nuint)end * 32; i += 32)
            {
                s0 += Vector512.LoadUnsafe(ref b, i);
                s1 += Vector512.LoadUnsafe(ref b, i + 8);
                s2 += Vector512.LoadUnsafe(ref b, i + 16);
                s3 += Vector512.LoadUnsafe(ref b, i + 24);
            }

            _partial[worker * 8] = Vector512.Sum(s0 + s1 + s2 + s3);
        }
    }
}
