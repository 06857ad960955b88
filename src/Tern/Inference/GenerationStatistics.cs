namespace Tern.Inference;

/// <summary>Prompt and generation token counts and times, for tokens/s as llama.cpp reports them.</summary>
public sealed record GenerationStatistics(int PromptTokens, TimeSpan PromptTime, int GeneratedTokens, TimeSpan GenerationTime)
{
    public double PromptTokensPerSecond => PromptTime > TimeSpan.Zero ? PromptTokens / PromptTime.TotalSeconds : 0;

    public double GeneratedTokensPerSecond => GenerationTime > TimeSpan.Zero ? GeneratedTokens / GenerationTime.TotalSeconds : 0;
}
