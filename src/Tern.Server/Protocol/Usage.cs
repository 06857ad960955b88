namespace Tern.Server.Protocol;

/// <summary>Token counts of one request; the prompt's tokens that came from a session's KV cache are its cached tokens.</summary>
public sealed record Usage(int PromptTokens, int CompletionTokens, PromptTokensDetails PromptTokensDetails)
{
    public int TotalTokens => PromptTokens + CompletionTokens;
}
