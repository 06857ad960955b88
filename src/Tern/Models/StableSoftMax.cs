using System.Numerics.Tensors;

namespace Tern.Models;

/// <summary>
/// Softmax that subtracts the maximum first. TensorPrimitives.SoftMax exponentiates the raw inputs, so scores of a
/// few hundred (ordinary for attention in wide models) overflow to ∞ and the result is NaN.
/// </summary>
internal static class StableSoftMax
{
    public static void InPlace(Span<float> values)
    {
        float max = TensorPrimitives.Max(values);
        TensorPrimitives.Subtract(values, max, values);
        TensorPrimitives.Exp(values, values);
        TensorPrimitives.Divide(values, TensorPrimitives.Sum(values), values);
    }
}
