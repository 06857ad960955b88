namespace Tern.Quantization;

/// <summary>
/// Running mean of |w| over a tensor fed in pieces (rows, memory-mapped chunks), so γ can be found in one pass
/// before a second pass quantizes the rows. Sums in double so the result does not depend on how the tensor was cut.
/// </summary>
public struct AbsmeanAccumulator
{
    private double _sum;
    private long _count;

    public readonly long Count => _count;

    public readonly double MeanAbs => _count == 0 ? 0.0 : _sum / _count;

    /// <summary>γ as BitNet's weight_quant uses it: mean|W| in float32, clamped below at 1e-5.</summary>
    public readonly float Scale => AbsmeanTernaryQuantizer.ScaleFromMeanAbs(MeanAbs);

    public void Add(ReadOnlySpan<float> values)
    {
        double sum = 0;
        foreach (float v in values)
            sum += Math.Abs((double)v);
        _sum += sum;
        _count += values.Length;
    }
}
