namespace Tern.Formats;

/// <summary>
/// A ternary weight matrix W ≈ Scale · Values, Values ∈ {−1, 0, +1}, row-major [Rows = out, Cols = in].
/// </summary>
public sealed record TernaryMatrix(int Rows, int Cols, sbyte[] Values, float Scale)
{
    public ReadOnlySpan<sbyte> Row(int r) => Values.AsSpan(r * Cols, Cols);

    public float[] Dequantize()
    {
        var w = new float[Values.Length];
        for (int i = 0; i < w.Length; i++)
            w[i] = Values[i] * Scale;
        return w;
    }
}
