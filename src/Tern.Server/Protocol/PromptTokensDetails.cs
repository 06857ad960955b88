namespace Tern.Server.Protocol;

/// <summary>How many of the prompt's tokens were already in the session's KV cache (not evaluated again).</summary>
public sealed record PromptTokensDetails(int CachedTokens);
