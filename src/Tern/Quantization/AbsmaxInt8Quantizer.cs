namespace Tern.Quantization;

/// <summary>
/// BitNet b1.58 activation quantization, per token: s = 127 / max(max|x|, 1e-5); q = clamp(round(x·s), −128, 127)
/// with round half to even (torch.round); x ≈ q / s.
/// Definition: https://github.com/microsoft/unilm/blob/master/bitnet/The-Era-of-1-bit-LLMs__Training_Tips_Code_FAQ.pdf
/// (activation_quant).
/// </summary>
public static class AbsmaxInt8Quantizer
{
    public const float MinAbsMax = 1e-5f;

    /// <summary>Quantizes one token's activations; returns s (multiply q by 1/s to get x back).</summary>
    public static float Quantize(ReadOnlySpan<float> x, Span<sbyte> q)
    {
        if (q.Length != x.Length)
            throw new ArgumentException($"absmax int8: {x.Length} activations need {x.Length} outputs, got {q.Length}.", nameof(q));

        float amax = 0f;
        foreach (float v in x)
            amax = MathF.Max(amax, MathF.Abs(v));

        float s = 127f / MathF.Max(amax, MinAbsMax);
        for (int i = 0; i < x.Length; i++)
            q[i] = (sbyte)Math.Clamp(MathF.Round(x[i] * s), -128f, 127f);
        return s;
    }
}
