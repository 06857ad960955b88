using Tern.Quantization;

namespace Tern.Tests.Quantization;

public class QuantizerTests
{
    [Fact]
    public void Absmean_DesignWorkedExample()
    {
        // DESIGN.md: W = [[0.3, −0.7], [0.5, 0.1]] → γ = (0.3+0.7+0.5+0.1)/4 = 0.4 → W/γ = [[0.75, −1.75], [1.25, 0.25]]
        // → round → [[1, −2], [1, 0]] → clamp → [[1, −1], [1, 0]].
        float[] w = [0.3f, -0.7f, 0.5f, 0.1f];
        var q = new sbyte[4];
        float gamma = AbsmeanTernaryQuantizer.Quantize(w, q);
        Assert.Equal(0.4f, gamma, 6);
        Assert.Equal(new sbyte[] { 1, -1, 1, 0 }, q);
    }

    [Fact]
    public void Absmean_RoundsHalfToEvenAndClampsGammaBelow()
    {
        // mean|w| = (0.5+1.5+2+0)/4 = 1 → w/γ = 0.5, −1.5, 2, 0 → half to even 0, −2, 2, 0 → clamp 0, −1, 1, 0.
        float[] w = [0.5f, -1.5f, 2f, 0f];
        var q = new sbyte[4];
        Assert.Equal(1f, AbsmeanTernaryQuantizer.Quantize(w, q));
        Assert.Equal(new sbyte[] { 0, -1, 1, 0 }, q);

        // An all-zero tensor: γ = max(0, 1e−5) and every value 0 (no division by zero).
        var zeros = new float[8];
        var qz = new sbyte[8];
        Assert.Equal(1e-5f, AbsmeanTernaryQuantizer.Quantize(zeros, qz));
        Assert.All(qz, v => Assert.Equal(0, v));
    }

    [Fact]
    public void Absmean_StreamingOverRowsEqualsWholeTensor()
    {
        var rng = new Random(1234);
        const int rows = 17, cols = 384;
        var w = new float[rows * cols];
        for (int i = 0; i < w.Length; i++)
            w[i] = (float)(rng.NextDouble() * 2 - 1) * 0.05f;

        var whole = new sbyte[w.Length];
        float gammaWhole = AbsmeanTernaryQuantizer.Quantize(w, whole);

        var acc = default(AbsmeanAccumulator);
        for (int r = 0; r < rows; r++)
            acc.Add(w.AsSpan(r * cols, cols));
        Assert.Equal(w.Length, acc.Count);
        Assert.Equal(gammaWhole, acc.Scale);
        Assert.Equal(AbsmeanTernaryQuantizer.MeanAbs(w), acc.MeanAbs, 12);

        var streamed = new sbyte[w.Length];
        for (int r = 0; r < rows; r++)
            AbsmeanTernaryQuantizer.QuantizeWithScale(w.AsSpan(r * cols, cols), acc.Scale, streamed.AsSpan(r * cols, cols));
        Assert.Equal(whole, streamed);
    }

    [Fact]
    public void AbsmaxInt8_HandWorkedExample()
    {
        // max|x| = 2 → s = 127/2 = 63.5; x·s = 127, −63.5, 31.75, 0.5·63.5=31.75… chosen values:
        // 2 → 127; −1 → −63.5 → tie → −64 (even); 0.5 → 31.75 → 32; 1/127 → 0.5 → tie → 0 (even, not 1).
        float[] x = [2f, -1f, 0.5f, 1f / 127f];
        var q = new sbyte[4];
        float s = AbsmaxInt8Quantizer.Quantize(x, q);
        Assert.Equal(63.5f, s);
        Assert.Equal(new sbyte[] { 127, -64, 32, 0 }, q);

        // max|x| = 127 → s = 1, so x itself is rounded: 2.5 → 2, −3.5 → −4, 1.5 → 2, −0.5 → 0 (all half to even).
        float[] y = [127f, 2.5f, -3.5f, 1.5f, -0.5f, -127f];
        var qy = new sbyte[6];
        Assert.Equal(1f, AbsmaxInt8Quantizer.Quantize(y, qy));
        Assert.Equal(new sbyte[] { 127, 2, -4, 2, 0, -127 }, qy);
    }

    [Fact]
    public void AbsmaxInt8_AllZeroUsesTheFloor()
    {
        var q = new sbyte[3];
        Assert.Equal(127f / 1e-5f, AbsmaxInt8Quantizer.Quantize(new float[3], q));
        Assert.Equal(new sbyte[3], q);
    }

    [Fact]
    public void Quantizers_RejectMismatchedOutput()
    {
        var ex = Assert.Throws<ArgumentException>(() => AbsmaxInt8Quantizer.Quantize(new float[4], new sbyte[3]));
        Assert.Contains("4", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => AbsmeanTernaryQuantizer.QuantizeWithScale(new float[4], 1f, new sbyte[5]));
        Assert.Throws<ArgumentOutOfRangeException>(() => AbsmeanTernaryQuantizer.QuantizeWithScale(new float[4], 0f, new sbyte[4]));
    }
}
