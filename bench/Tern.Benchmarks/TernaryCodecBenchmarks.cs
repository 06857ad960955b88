using BenchmarkDotNet.Attributes;
using Tern.Quantization;

namespace Tern.Benchmarks;

/// <summary>The reference (scalar) packers and unpackers of the three ternary formats on an FFN-sized matrix.</summary>
[MemoryDiagnoser]
[Config(typeof(CodecConfig))]
public class TernaryCodecBenchmarks
{
    private const long TernaryBytes = FfnTensor.Elements;

    private FfnTensor _tensor = null!;
    private byte[] _i2s = null!, _tq2 = null!, _tq1 = null!;
    private sbyte[] _decoded = null!;
    private float[] _blockScales = null!;

    [GlobalSetup]
    public void Setup()
    {
        _tensor = new FfnTensor();
        _i2s = new byte[I2SFormat.ByteSize(FfnTensor.Elements)];
        _tq2 = new byte[TQ2_0Format.ByteSize(FfnTensor.Elements)];
        _tq1 = new byte[TQ1_0Format.ByteSize(FfnTensor.Elements)];
        _decoded = new sbyte[FfnTensor.Elements];
        _blockScales = new float[FfnTensor.Elements / TQ2_0Format.BlockSize];
        // Decode benchmarks read what the encoders wrote, whichever runs first.
        I2SEncode();
        TQ2_0Encode();
        TQ1_0Encode();
    }

    [Benchmark, Throughput(TernaryBytes)]
    public void I2SEncode() => I2SFormat.Encode(_tensor.Ternary, _tensor.Scale, _i2s);

    [Benchmark, Throughput(TernaryBytes)]
    public float I2SDecode() => I2SFormat.Decode(_i2s, _decoded);

    [Benchmark, Throughput(TernaryBytes)]
    public void TQ2_0Encode() => TQ2_0Format.EncodeTernary(_tensor.Ternary, _tensor.Scale, _tq2);

    [Benchmark, Throughput(TernaryBytes)]
    public void TQ2_0Decode() => TQ2_0Format.DecodeTernary(_tq2, _decoded, _blockScales);

    [Benchmark, Throughput(TernaryBytes)]
    public void TQ1_0Encode() => TQ1_0Format.EncodeTernary(_tensor.Ternary, _tensor.Scale, _tq1);

    [Benchmark, Throughput(TernaryBytes)]
    public void TQ1_0Decode() => TQ1_0Format.DecodeTernary(_tq1, _decoded, _blockScales);
}
