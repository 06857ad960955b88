namespace Tern.Formats;

/// <summary>
/// config.json "quantization_config". BitNet checkpoints say quant_method "bitnet"; microsoft's 2B-4T adds
/// linear_class "autobitlinear" and quantization_mode "offline" (packed ternary weights) or "online" (the -bf16
/// master weights, ternarized at run time). Other fields stay in <see cref="RawJson"/>.
/// </summary>
public sealed record HfQuantizationConfig(
    string QuantMethod,
    string? LinearClass,
    string? QuantizationMode,
    IReadOnlyList<string>? ModulesToNotConvert,
    string RawJson)
{
    public bool IsBitNet => string.Equals(QuantMethod, "bitnet", StringComparison.OrdinalIgnoreCase);
}
