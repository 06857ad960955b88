namespace Tern.Training.Model;

public enum ParameterKind
{
    /// <summary>The token embedding (also the output head when tied).</summary>
    Embedding,

    /// <summary>A BitLinear weight: ternary in the quantized model.</summary>
    Linear,

    /// <summary>An untied output head: kept in full precision.</summary>
    Head,

    /// <summary>An RMSNorm weight: no weight decay.</summary>
    Norm,
}
