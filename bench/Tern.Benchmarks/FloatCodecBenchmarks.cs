using BenchmarkDotNet.Attributes;
using Tern.Quantization;

namespace Tern.Benchmarks;

/// <summary>
/// What a converter does to the float side of a model: F16 and Q8_0 for embeddings and heads, absmean for
/// post-training ternarization; all on the same FFN-sized matrix as the ternary codecs.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(CodecConfig))]
public class FloatCodecBenchmarks
{
    private const long FloatBytes = FfnTensor.Elements * sizeof(float);

    private FfnTensor _tensor = null!;
    private byte[] _f16 = null!, _q8 = null!;
    private sbyte[] _ternary = null!;

    [GlobalSetup]
    public void Setup()
    {
        _tensor = new FfnTensor();
        _f16 = new byte[F16Format.ByteSize(FfnTensor.Elements)];
        _q8 = new byte[Q8_0Format.ByteSize(FfnTensor.Elements)];
        _ternary = new sbyte[FfnTensor.Elements];
    }

    [Benchmark, Throughput(FloatBytes)]
    public void F16Encode() => F16Format.Encode(_tensor.Weights, _f16);

    [Benchmark, Throughput(FloatBytes)]
    public void Q8_0Encode() => Q8_0Format.Encode(_tensor.Weights, _q8);

    [Benchmark, Throughput(FloatBytes)]
    public float AbsmeanQuantize() => AbsmeanTernaryQuantizer.Quantize(_tensor.Weights, _ternary);
}
