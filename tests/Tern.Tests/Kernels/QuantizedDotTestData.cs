namespace Tern.Tests.Kernels;

/// <summary>Random inputs shared by the Q8_0 and Q6_K kernel tests.</summary>
internal static class QuantizedDotTestData
{
    public static float[] Activations(Random rng, int n) =>
        Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 6 - 3) * (rng.Next(10) == 0 ? 10 : 1)).ToArray();

    /// <summary>
    /// Two sums of the same scaled integer block products in different orders (and with fused or separate rounding)
    /// differ by at most about 2·(terms + 16)·2⁻²³·Σ|terms|: the bound the SIMD paths are held to.
    /// </summary>
    public static void AssertClose(float expected, float actual, double magnitude, int terms, string what)
    {
        double bound = (2.0 * (terms + 16) * Math.Pow(2, -23) * magnitude) + 1e-30;
        Assert.True(Math.Abs(expected - actual) <= bound, $"{what}: {actual} against {expected} (bound {bound})");
    }
}
