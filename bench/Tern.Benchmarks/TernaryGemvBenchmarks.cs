using BenchmarkDotNet.Attributes;
using Tern.Kernels;

namespace Tern.Benchmarks;

/// <summary>
/// Tokens through a ternary matrix of 2B-4T's shapes (rows × columns): Σ c·q for every row, by each kernel path,
/// one thread. The 2-bit codes are what decode reads from memory: rows · columns / 4 bytes.
/// </summary>
[MemoryDiagnoser]
public class TernaryGemvBenchmarks
{
    private byte[] _codes = null!;
    private sbyte[] _q = null!;
    private int[] _out = null!;

    [Params("2560x2560", "6912x2560", "2560x6912")]
    public string Shape { get; set; } = "2560x2560";

    private int Rows { get; set; }

    private int Columns { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Rows = int.Parse(Shape.Split('x')[0], System.Globalization.CultureInfo.InvariantCulture);
        Columns = int.Parse(Shape.Split('x')[1], System.Globalization.CultureInfo.InvariantCulture);
        var rng = new Random(7);
        // Codes 0, 1 and 2 only, as an I2_S encoder writes them.
        _codes = new byte[Rows * Columns / 4];
        for (int i = 0; i < _codes.Length; i++)
            _codes[i] = (byte)((rng.Next(3) << 6) | (rng.Next(3) << 4) | (rng.Next(3) << 2) | rng.Next(3));
        _q = new sbyte[Columns * TernaryGemmBenchmarks.Tokens];
        for (int i = 0; i < _q.Length; i++)
            _q[i] = (sbyte)rng.Next(-127, 128);
        _out = new int[Rows * TernaryGemmBenchmarks.Tokens];
    }

    private void Run(Func<ReadOnlySpan<byte>, ReadOnlySpan<sbyte>, int> dot)
    {
        int rowBytes = Columns / 4;
        var q = _q.AsSpan(0, Columns);
        for (int r = 0; r < Rows; r++)
            _out[r] = dot(_codes.AsSpan(r * rowBytes, rowBytes), q);
    }

    [Benchmark(Baseline = true)]
    public void Scalar() => Run(TernaryCodesDot.DotScalar);

    [Benchmark]
    public void Vector128Path() => Run(TernaryCodesDot.Dot128);

    [Benchmark]
    public void Vector256Path() => Run(TernaryCodesDot.Dot256);

    [Benchmark]
    public void Vector512Path() => TernaryCodesDot.Multiply512(_codes, Columns, _q.AsSpan(0, Columns), 1, _out, Rows);

    /// <summary>Prompt processing: <see cref="TernaryGemmBenchmarks.Tokens"/> tokens at once; compare per token.</summary>
    [Benchmark(OperationsPerInvoke = TernaryGemmBenchmarks.Tokens)]
    public void Vector512Batch() => TernaryCodesDot.Multiply512(_codes, Columns, _q, TernaryGemmBenchmarks.Tokens, _out, Rows);
}

/// <summary>Shared constants of the ternary product benchmarks.</summary>
public static class TernaryGemmBenchmarks
{
    /// <summary>Tokens of a prompt chunk.</summary>
    public const int Tokens = 64;
}
