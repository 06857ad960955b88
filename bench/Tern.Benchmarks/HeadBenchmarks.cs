using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Tern.Models;
using Tern.Quantization;
using Tern.Runtime;

namespace Tern.Benchmarks;

/// <summary>
/// One token through 2B-4T's output head (128,256 × 2560) in each type, 1 and 2 threads: the whole matrix is read
/// once per product, so MB/s is the bytes of the head over the time, to set against <see cref="MemoryBandwidthBenchmarks"/>.
/// "F16 convert, then dot" is the kernel this replaced (each row widened by TensorPrimitives into a buffer, then dotted).
/// </summary>
[Config(typeof(CodecConfig))]
public class HeadBenchmarks : IDisposable
{
    private const int HeadRows = 128_256, HeadColumns = 2560;
    private const long F16Bytes = (long)HeadRows * HeadColumns * 2;
    private const long Q8_0Bytes = (long)HeadRows * (HeadColumns / 32) * 34;
    private const long Q6_KBytes = (long)HeadRows * (HeadColumns / 256) * 210;

    private WeightMatrix _matrix = null!;
    private ConvertThenDot _before = null!;
    private WorkerPool _pool = null!;
    private readonly float[] _x = new float[HeadColumns];
    private readonly float[] _y = new float[HeadRows];

    [Params(1, 2)]
    public int Threads { get; set; }

    private void Setup(Func<byte[], WeightMatrix> create, byte[] bytes)
    {
        var rng = new Random(5);
        for (int i = 0; i < _x.Length; i++)
            _x[i] = (float)(rng.NextDouble() * 2 - 1);
        _pool = new WorkerPool(Threads);
        _matrix = create(bytes);
        _matrix.Pool = _pool;
    }

    /// <summary>Random halves in ±[0.5, 1): no Inf or NaN, every mantissa.</summary>
    private static byte[] RandomF16()
    {
        var bytes = new byte[F16Bytes];
        new Random(1).NextBytes(bytes);
        var halves = MemoryMarshal.Cast<byte, ushort>(bytes.AsSpan());
        for (int i = 0; i < halves.Length; i++)
            halves[i] = (ushort)((halves[i] & 0x83FF) | 0x3800);
        return bytes;
    }

    /// <summary>Random blocks with a small fp16 scale at <paramref name="scaleOffset"/> of each.</summary>
    private static byte[] RandomBlocks(long size, int blockBytes, int scaleOffset)
    {
        var bytes = new byte[size];
        var rng = new Random(2);
        rng.NextBytes(bytes);
        for (long b = 0; b < size / blockBytes; b++)
            BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan((int)(b * blockBytes) + scaleOffset), (Half)(rng.NextDouble() * 0.01));
        return bytes;
    }

    [GlobalSetup(Targets = [nameof(F16Fused), nameof(F16ConvertThenDot)])]
    public void SetupF16()
    {
        var bytes = RandomF16();
        Setup(b => new HalfWeightMatrix("head", HeadRows, HeadColumns, MatrixBytes.InMemory(b, HeadColumns * 2)), bytes);
        _before = new ConvertThenDot(bytes) { Pool = _pool };
    }

    [GlobalSetup(Target = nameof(Q8_0))]
    public void SetupQ8_0() =>
        Setup(b => new Q8_0WeightMatrix("head", HeadRows, HeadColumns, MatrixBytes.InMemory(b, HeadColumns / 32 * 34)), RandomBlocks(Q8_0Bytes, Q8_0Format.BytesPerBlock, 0));

    [GlobalSetup(Target = nameof(Q6_K))]
    public void SetupQ6_K() =>
        Setup(b => new Q6_KWeightMatrix("head", HeadRows, HeadColumns, MatrixBytes.InMemory(b, HeadColumns / 256 * 210)), RandomBlocks(Q6_KBytes, Q6_KFormat.BytesPerBlock, 208));

    [GlobalCleanup]
    public void Dispose() => _pool?.Dispose();

    [Benchmark(Baseline = true)]
    [Throughput(F16Bytes)]
    public void F16ConvertThenDot() => _before.Multiply(_x, _y);

    [Benchmark]
    [Throughput(F16Bytes)]
    public void F16Fused() => _matrix.Multiply(_x, _y);

    [Benchmark]
    [Throughput(Q8_0Bytes)]
    public void Q8_0() => _matrix.Multiply(_x, _y);

    [Benchmark]
    [Throughput(Q6_KBytes)]
    public void Q6_K() => _matrix.Multiply(_x, _y);

    /// <summary>The F16 kernel before this one: TensorPrimitives widens a row into a buffer, then dots it.</summary>
    private sealed class ConvertThenDot(byte[] bytes) : RowParallelMatrix("head", HeadRows, HeadColumns)
    {
        private float[][] _buffers = [];

        protected override void PrepareWorkers(int workers)
        {
            if (_buffers.Length < workers)
                _buffers = Enumerable.Range(0, workers).Select(_ => new float[HeadColumns]).ToArray();
        }

        protected override void ComputeRows(ReadOnlySpan<float> x, Span<float> y, int start, int end, int worker)
        {
            var buffer = _buffers[worker];
            for (int r = start; r < end; r++)
            {
                TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(bytes.AsSpan(r * HeadColumns * 2, HeadColumns * 2)), buffer);
                y[r] = TensorPrimitives.Dot(buffer, x);
            }
        }
    }
}
