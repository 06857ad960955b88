namespace Tern.Training.Cuda;

/// <summary>
/// Dropout.Keeps's test, Uniform(key, i) ≥ p with Uniform = (hash ≫ 11)·2⁻⁵³, as the integer comparison the kernels
/// make: (hash ≫ 11) ≥ ⌈p·2⁵³⌉. Scaling by a power of two is exact in double, and an integer is at least x exactly
/// when it is at least ⌈x⌉, so both keep the same elements.
/// </summary>
internal static class DropoutThreshold
{
    private const double TwoToThe53 = 9007199254740992.0;

    /// <summary>0 (keep everything) when <paramref name="probability"/> ≤ 0.</summary>
    public static ulong For(double probability) => probability <= 0 ? 0 : (ulong)Math.Ceiling(probability * TwoToThe53);

    public static bool Keeps(ulong hash, ulong threshold) => (hash >> 11) >= threshold;
}
