namespace Tern.Models;

/// <summary>One transformer block. Sub-norms exist in the BitNet families (before the attention output and FFN down).</summary>
public sealed record LayerWeights(
    float[] AttentionNorm,
    WeightMatrix Query,
    WeightMatrix Key,
    WeightMatrix Value,
    WeightMatrix Output,
    float[]? AttentionSubNorm,
    float[] FfnNorm,
    WeightMatrix Gate,
    WeightMatrix Up,
    WeightMatrix Down,
    float[]? FfnSubNorm);
