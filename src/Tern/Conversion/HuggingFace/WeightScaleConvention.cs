using Tern.Formats;

namespace Tern.Conversion.HuggingFace;

/// <summary>
/// How a checkpoint's weight_scale relates to the weights. transformers' BitLinear (linear_class "bitlinear", the
/// default: HF1BitLLM, Falcon3 1.58-bit) divides its output by weight_scale, so W = W̃ / weight_scale; AutoBitLinear
/// in offline mode (linear_class "autobitlinear": microsoft/bitnet-b1.58-2B-4T) multiplies, so W = W̃ · weight_scale.
/// See https://github.com/huggingface/transformers/blob/main/src/transformers/integrations/bitnet.py.
/// </summary>
public enum WeightScaleConvention
{
    /// <summary>W = W̃ / weight_scale (BitLinear).</summary>
    Divide,

    /// <summary>W = W̃ · weight_scale (AutoBitLinear, offline).</summary>
    Multiply,
}

internal static class WeightScaleConventions
{
    public static WeightScaleConvention From(HfQuantizationConfig? config) =>
        string.Equals(config?.LinearClass, "autobitlinear", StringComparison.OrdinalIgnoreCase)
            ? WeightScaleConvention.Multiply
            : WeightScaleConvention.Divide;

    /// <summary>The per-tensor scale s of W = s · W̃.</summary>
    public static float ScaleOf(float weightScale, WeightScaleConvention convention, string tensor)
    {
        if (!float.IsFinite(weightScale) || weightScale <= 0)
            throw new InvalidDataException($"tensor '{tensor}': weight_scale is {weightScale}; it must be a positive finite number");
        return convention == WeightScaleConvention.Multiply ? weightScale : 1f / weightScale;
    }
}
