namespace Tern.Quantization;

/// <summary>
/// The two rounding rules the reference encoders use; which one a format uses decides whether files match bit for bit.
/// </summary>
internal static class Rounding
{
    /// <summary>
    /// ggml's nearest_int (adds 1.5·2²³ and reads the mantissa): round half to even for |x| ≤ 2²²,
    /// which is what MathF.Round does by default.
    /// </summary>
    public static int NearestInt(float x) => (int)MathF.Round(x);

    /// <summary>C's roundf / lroundf: halves go away from zero (ggml's Q8_0 and TQ encoders use it).</summary>
    public static int AwayFromZero(float x) => (int)MathF.Round(x, MidpointRounding.AwayFromZero);
}
