namespace Tern.Formats;

/// <summary>A row-major float32 matrix [Rows, Cols] — for a linear layer, [out, in] as PyTorch stores weight.</summary>
public sealed record FloatMatrix(int Rows, int Cols, float[] Values)
{
    public ReadOnlySpan<float> Row(int r) => Values.AsSpan(r * Cols, Cols);

    public float this[int r, int c] => Values[r * Cols + c];
}
