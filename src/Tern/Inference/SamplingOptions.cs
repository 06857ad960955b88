namespace Tern.Inference;

/// <summary>How the next token is chosen; the defaults are llama.cpp's. Temperature 0 is greedy.</summary>
public sealed record SamplingOptions
{
    public float Temperature { get; init; } = 0.8f;

    /// <summary>Keep the K most likely tokens; 0 keeps all.</summary>
    public int TopK { get; init; } = 40;

    /// <summary>Keep the smallest set of most likely tokens whose probabilities add up to P; 1 keeps all.</summary>
    public float TopP { get; init; } = 0.95f;

    /// <summary>Drop tokens less likely than MinP times the most likely one; 0 keeps all.</summary>
    public float MinP { get; init; } = 0.05f;

    /// <summary>Divides positive (multiplies negative) logits of recently seen tokens; 1 is off.</summary>
    public float RepeatPenalty { get; init; } = 1f;

    /// <summary>How many recent tokens the repetition penalty looks at.</summary>
    public int RepeatLastN { get; init; } = 64;

    /// <summary>Seed of the random draw; the same seed, model and prompt give the same text.</summary>
    public int Seed { get; init; } = 42;

    public static SamplingOptions Greedy { get; } = new() { Temperature = 0 };

    public void Validate()
    {
        if (!(Temperature >= 0) || float.IsInfinity(Temperature))
            throw new ArgumentException($"temperature {Temperature} must be 0 or more");
        if (TopK < 0)
            throw new ArgumentException($"top-k {TopK} must be 0 or more");
        if (!(TopP > 0 && TopP <= 1))
            throw new ArgumentException($"top-p {TopP} must be in (0, 1]");
        if (!(MinP >= 0 && MinP <= 1))
            throw new ArgumentException($"min-p {MinP} must be in [0, 1]");
        if (!(RepeatPenalty > 0) || float.IsInfinity(RepeatPenalty))
            throw new ArgumentException($"repeat penalty {RepeatPenalty} must be positive");
        if (RepeatLastN < 0)
            throw new ArgumentException($"repeat-last-n {RepeatLastN} must be 0 or more");
    }
}
