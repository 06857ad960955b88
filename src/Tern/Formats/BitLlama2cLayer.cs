namespace Tern.Formats;

/// <summary>One block of a bitllama2.c model: seven ternary matrices and no norm weights (its norms are parameter-free).</summary>
public sealed record BitLlama2cLayer(
    TernaryMatrix Wq,
    TernaryMatrix Wk,
    TernaryMatrix Wv,
    TernaryMatrix Wo,
    TernaryMatrix W1,
    TernaryMatrix W2,
    TernaryMatrix W3);
