using Tern.Quantization;

namespace Tern.Benchmarks;

/// <summary>
/// One 2560 × 6912 matrix, the shape of BitNet b1.58 2B-4T's FFN projections: the largest tensors a converter
/// encodes, so codec speed there is what a user waits for. Filled from a fixed seed so every run sees the same data.
/// </summary>
internal sealed class FfnTensor
{
    public const int Rows = 6912;
    public const int Columns = 2560;
    public const int Elements = Rows * Columns;

    public float[] Weights { get; } = new float[Elements];

    public sbyte[] Ternary { get; } = new sbyte[Elements];

    public float Scale { get; }

    public FfnTensor()
    {
        var random = new Random(1234);
        // Roughly normal (sum of uniforms), the shape trained weights have, so absmean yields a realistic mix of −1/0/+1.
        for (int i = 0; i < Weights.Length; i++)
            Weights[i] = (float)((random.NextDouble() + random.NextDouble() + random.NextDouble() - 1.5) * 0.05);
        Scale = AbsmeanTernaryQuantizer.Quantize(Weights, Ternary);
    }
}
