namespace Tern.Quantization;

/// <summary>
/// BitNet b1.58 weight quantization: γ = mean|W| over the whole tensor (clamped below at 1e-5),
/// W̃ = clamp(round(W·(1/γ)), −1, 1) with round half to even; W ≈ γ·W̃.
/// Follows the reference weight_quant: s = 1 / w.abs().mean().clamp(min=1e-5); (w·s).round().clamp(−1, 1) / s.
/// Like that code it multiplies by the float32 reciprocal instead of dividing, which decides values that sit exactly on ±0.5.
/// Definition: https://github.com/microsoft/unilm/blob/master/bitnet/The-Era-of-1-bit-LLMs__Training_Tips_Code_FAQ.pdf
/// (weight_quant).
/// For big tensors: accumulate γ with <see cref="AbsmeanAccumulator"/> (or <see cref="MeanAbs"/>) row by row,
/// then call <see cref="QuantizeWithScale"/> per row.
/// </summary>
public static class AbsmeanTernaryQuantizer
{
    /// <summary>The lower clamp on γ, as in BitNet's reference code.</summary>
    public const float MinScale = 1e-5f;

    /// <summary>Quantizes a whole tensor; returns γ.</summary>
    public static float Quantize(ReadOnlySpan<float> w, Span<sbyte> q)
    {
        float gamma = ComputeScale(w);
        QuantizeWithScale(w, gamma, q);
        return gamma;
    }

    /// <summary>mean|w|, summed in double.</summary>
    public static double MeanAbs(ReadOnlySpan<float> w)
    {
        var acc = default(AbsmeanAccumulator);
        acc.Add(w);
        return acc.MeanAbs;
    }

    /// <summary>γ of a tensor held whole.</summary>
    public static float ComputeScale(ReadOnlySpan<float> w) => ScaleFromMeanAbs(MeanAbs(w));

    /// <summary>γ from a mean of magnitudes: rounded to float32, then clamped below at 1e-5.</summary>
    public static float ScaleFromMeanAbs(double meanAbs) => MathF.Max((float)meanAbs, MinScale);

    /// <summary>Quantizes w (a whole tensor or any piece of it) against a γ computed over the whole tensor.</summary>
    public static void QuantizeWithScale(ReadOnlySpan<float> w, float gamma, Span<sbyte> q)
    {
        if (q.Length != w.Length)
            throw new ArgumentException($"absmean: {w.Length} weights need {w.Length} outputs, got {q.Length}.", nameof(q));
        if (!(gamma > 0) || float.IsInfinity(gamma))
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "absmean: γ must be a positive finite number.");

        float s = 1f / gamma;
        for (int i = 0; i < w.Length; i++)
            q[i] = (sbyte)Math.Clamp(MathF.Round(w[i] * s), -1f, 1f);
    }
}
