using Tern.Gguf;

namespace Tern.Conversion;

/// <summary>What `tern convert` was asked for.</summary>
public sealed record ConversionOptions
{
    /// <summary>The type of the ternary projections (--type): I2_S, TQ2_0, TQ1_0, F16, BF16 or F32.</summary>
    public GgmlType WeightType { get; init; } = GgmlType.I2_S;

    /// <summary>--token-embedding-type; F16 when not given.</summary>
    public GgmlType? TokenEmbeddingType { get; init; }

    /// <summary>--output-tensor-type; the token embedding's type when not given.</summary>
    public GgmlType? OutputTensorType { get; init; }

    /// <summary>--untie: store output.weight even when it equals token_embd.weight.</summary>
    public bool Untie { get; init; }

    /// <summary>general.name to write, if any.</summary>
    public string? Name { get; init; }

    public static IReadOnlySet<GgmlType> WeightTypes { get; } =
        new HashSet<GgmlType> { GgmlType.I2_S, GgmlType.TQ2_0, GgmlType.TQ1_0, GgmlType.F16, GgmlType.BF16, GgmlType.F32 };

    public static IReadOnlySet<GgmlType> FloatTensorTypes { get; } =
        new HashSet<GgmlType> { GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0 };
}
