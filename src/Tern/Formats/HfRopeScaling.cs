namespace Tern.Formats;

/// <summary>
/// config.json "rope_scaling". <see cref="Type"/> is "rope_type" (newer transformers) or "type" (older), e.g.
/// "llama3", "linear", "dynamic", "yarn". The llama3 fields are typed; the rest stays in <see cref="RawJson"/>.
/// </summary>
public sealed record HfRopeScaling(
    string? Type,
    double? Factor,
    double? LowFreqFactor,
    double? HighFreqFactor,
    int? OriginalMaxPositionEmbeddings,
    string RawJson);
