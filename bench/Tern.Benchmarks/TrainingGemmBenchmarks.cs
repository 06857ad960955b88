using BenchmarkDotNet.Attributes;
using Tern.Runtime;
using Tern.Training.Layers;

namespace Tern.Benchmarks;

/// <summary>
/// The trainer's three products at the shipped model's shapes (a batch of 16 × 256 tokens, width 256, FFN 768):
/// the FFN up projection forward (Y = X·Wᵀ), its input gradient (dX = dY·W) and its weight gradient (dW = dYᵀ·X).
/// Each is 2 · 4096 · 768 · 256 = 1.61 GFLOP.
/// </summary>
public class TrainingGemmBenchmarks : IDisposable
{
    private const int Rows = 4096, Width = 256, Ffn = 768;
    private readonly float[] _x = Filled(Rows * Width, 1), _w = Filled(Ffn * Width, 2), _dy = Filled(Rows * Ffn, 3);
    private readonly float[] _y = new float[Rows * Ffn], _dx = new float[Rows * Width], _dw = new float[Ffn * Width];
    private WorkerPool _pool = null!;

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup() => _pool = new WorkerPool(Threads);

    [Benchmark(Description = "Y = X·Wᵀ (4096×768×256)")]
    public void Forward() =>
        Gemm.Multiply(_pool, Rows, Ffn, Width, new MatrixOperand<float>(_x, 0, Width), new MatrixOperand<float>(_w, 0, Width, Transposed: true), _y, 0, Ffn, accumulate: false);

    [Benchmark(Description = "dX = dY·W (4096×256×768)")]
    public void InputGradient() =>
        Gemm.Multiply(_pool, Rows, Width, Ffn, new MatrixOperand<float>(_dy, 0, Ffn), new MatrixOperand<float>(_w, 0, Width), _dx, 0, Width, accumulate: false);

    [Benchmark(Description = "dW = dYᵀ·X (768×256×4096)")]
    public void WeightGradient() =>
        Gemm.Multiply(_pool, Ffn, Width, Rows, new MatrixOperand<float>(_dy, 0, Ffn, Transposed: true), new MatrixOperand<float>(_x, 0, Width), _dw, 0, Width, accumulate: false);

    [GlobalCleanup]
    public void Dispose() => _pool?.Dispose();

    private static float[] Filled(int length, int seed)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < length; i++)
            values[i] = (float)(random.NextDouble() - 0.5);
        return values;
    }
}
