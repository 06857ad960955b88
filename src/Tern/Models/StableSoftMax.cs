namespace Tern.Models;

/// <summary>
/// Softmax that subtracts the maximum first (TensorPrimitives.SoftMax exponentiates the raw inputs, so scores of a
/// few hundred, ordinary for attention in wide models, overflow to ∞ and give NaN). The exponential and the sum are
/// <see cref="Kernels.PortableExp"/> and <see cref="Kernels.BlockOrderSum"/>, so the CUDA attention kernel rounds
/// every probability alike.
/// </summary>
internal static class StableSoftMax
{
    public static void InPlace(Span<float> values)
    {
        float max = values[0];
        for (int i = 1; i < values.Length; i++)
            max = MathF.Max(max, values[i]);
        for (int i = 0; i < values.Length; i++)
            values[i] = Kernels.PortableExp.Exp(values[i] - max);
        float sum = Kernels.BlockOrderSum.Sum(values);

        for (int i = 0; i < values.Length; i++)
            values[i] /= sum;
    }
}
