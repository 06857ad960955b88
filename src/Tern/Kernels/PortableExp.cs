namespace Tern.Kernels;

/// <summary>
/// e^x computed with float multiplies and adds only (Cody–Waite reduction by ln 2 and Cephes' degree-6 polynomial,
/// within 2 ulp), so that the CPU engine and the CUDA kernels (infer_common.cuh's portable_exp, the same operations in
/// the same order, compiled without fused multiply-adds) give the same bits; the C library's expf and CUDA's differ
/// in the last bit now and then. Used where an exponential feeds BitNet's int8 activations: the attention softmax and SiLU.
/// </summary>
public static class PortableExp
{
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2High = 0.693359375f;
    private const float Ln2Low = -2.12194440e-4f;

    public static float Exp(float x)
    {
        if (float.IsNaN(x))
            return x;
        if (x > 88.72283905206835f)
            return float.PositiveInfinity;
        if (x < -103.97207708f)
            return 0f;
        float n = MathF.Round(x * Log2E);
        float r = x - (n * Ln2High);
        r -= n * Ln2Low;
        float r2 = r * r;
        float p = 1.9875691500E-4f;
        p = (p * r) + 1.3981999507E-3f;
        p = (p * r) + 8.3334519073E-3f;
        p = (p * r) + 4.1665795894E-2f;
        p = (p * r) + 1.6666665459E-1f;
        p = (p * r) + 5.0000001201E-1f;
        float e = ((p * r2) + r) + 1f;
        int k = (int)n;
        if (k > 127)
            return e * TwoTo(127) * TwoTo(k - 127);
        if (k < -126)
            return e * TwoTo(k + 126) * TwoTo(-126);
        return e * TwoTo(k);
    }

    private static float TwoTo(int k) => BitConverter.Int32BitsToSingle((k + 127) << 23);
}
