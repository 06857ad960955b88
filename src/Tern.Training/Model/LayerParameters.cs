namespace Tern.Training.Model;

/// <summary>The parameters of one transformer block; sub-norms exist for bitnet-b1.58 only.</summary>
public sealed record LayerParameters(
    ParameterTensor AttentionNorm,
    ParameterTensor Query,
    ParameterTensor Key,
    ParameterTensor Value,
    ParameterTensor? AttentionSubNorm,
    ParameterTensor AttentionOutput,
    ParameterTensor FfnNorm,
    ParameterTensor Gate,
    ParameterTensor Up,
    ParameterTensor? FfnSubNorm,
    ParameterTensor Down);
