namespace Tern.Training.Model;

/// <summary>The model families the trainer builds; each is named after the GGUF architecture the engine runs it as.</summary>
public enum TrainingArchitecture
{
    /// <summary>BitNet b1.58 2B-4T's block: ReLU² gated FFN, sub-norms before the attention output and FFN down
    /// projections, RoPE pairs (i, i + hd/2).</summary>
    BitNetB158,

    /// <summary>LLaMA's block: SiLU gated FFN, no sub-norms, RoPE pairs (2i, 2i + 1).</summary>
    Llama,
}

public static class TrainingArchitectures
{
    public static string GgufName(this TrainingArchitecture architecture) => architecture switch
    {
        TrainingArchitecture.BitNetB158 => "bitnet-b1.58",
        TrainingArchitecture.Llama => "llama",
        _ => throw new ArgumentOutOfRangeException(nameof(architecture)),
    };

    public static TrainingArchitecture Parse(string name) => name switch
    {
        "bitnet-b1.58" or "bitnet" => TrainingArchitecture.BitNetB158,
        "llama" => TrainingArchitecture.Llama,
        _ => throw new ArgumentException($"architecture '{name}' is not one the trainer builds (bitnet-b1.58, llama)"),
    };

    public static bool HasSubNorms(this TrainingArchitecture architecture) => architecture == TrainingArchitecture.BitNetB158;

    /// <summary>Whether RoPE rotates the halves of a head (GGUF's NEOX order) rather than adjacent pairs.</summary>
    public static bool RotatesHalves(this TrainingArchitecture architecture) => architecture == TrainingArchitecture.BitNetB158;
}
