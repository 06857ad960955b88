namespace Tern.Quantization;

/// <summary>The per-block float quantization shared by llama.cpp's TQ1_0 and TQ2_0 reference encoders.</summary>
internal static class TernaryBlock
{
    /// <summary>d = max|x|; t = lroundf(x·(1/d)) (halves away from zero); returns d.</summary>
    public static float QuantizeAbsmax(ReadOnlySpan<float> x, Span<sbyte> t)
    {
        float amax = 0f;
        foreach (float v in x)
            amax = MathF.Max(amax, MathF.Abs(v));

        float id = amax != 0f ? 1f / amax : 0f;
        for (int i = 0; i < x.Length; i++)
            t[i] = (sbyte)Math.Clamp(Rounding.AwayFromZero(x[i] * id), -1, 1);
        return amax;
    }
}
