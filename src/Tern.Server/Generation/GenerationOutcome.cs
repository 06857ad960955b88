using Tern.Server.Protocol;

namespace Tern.Server.Generation;

/// <summary>Counts of one generation, filled in as it runs; <see cref="FinishReason"/> is set when it ends normally.</summary>
internal sealed class GenerationOutcome
{
    public int PromptTokens { get; set; }

    /// <summary>Prompt tokens that the session's KV cache already held, so were not evaluated again.</summary>
    public int CachedTokens { get; set; }

    public int CompletionTokens { get; set; }

    /// <summary>"stop" (end of turn, a stop sequence) or "length" (max_tokens, the end of the context); null until the end.</summary>
    public string? FinishReason { get; set; }

    public Usage ToUsage() => new(PromptTokens, CompletionTokens, new PromptTokensDetails(CachedTokens));
}
