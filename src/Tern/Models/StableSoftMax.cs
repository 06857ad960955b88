namespace Tern.Models;

/// <summary>
/// Softmax that subtracts the maximum first (TensorPrimitives.SoftMax exponentiates the raw inputs, so scores of a
/// few hundred, ordinary for attention in wide models, overflow to ∞ and give NaN). Scalar, summed in order, with
/// the C library's expf: the same arithmetic as llama2.c's run.c, whose outputs the reference engine reproduces.
/// </summary>
internal static class StableSoftMax
{
    public static void InPlace(Span<float> values)
    {
        float max = values[0];
        for (int i = 1; i < values.Length; i++)
            max = MathF.Max(max, values[i]);
        float sum = 0;
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = MathF.Exp(values[i] - max);
            sum += values[i];
        }

        for (int i = 0; i < values.Length; i++)
            values[i] /= sum;
    }
}
