namespace Tern.Models;

/// <summary>The gate activation of the gated FFN: act(gate·x) ⊙ (up·x).</summary>
public enum FfnActivation
{
    /// <summary>x·σ(x): llama, bitnet (1bitLLM), bitllama2.c.</summary>
    Silu,

    /// <summary>max(x, 0)²: bitnet-b1.58 (2B-4T).</summary>
    ReluSquared,
}
