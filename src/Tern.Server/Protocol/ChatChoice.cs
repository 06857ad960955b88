namespace Tern.Server.Protocol;

/// <summary>The reply of a chat completion; Tern never computes log-probabilities, so <see cref="Logprobs"/> is always null.</summary>
public sealed record ChatChoice(int Index, AssistantMessage Message, string FinishReason)
{
    public string? Logprobs => null;
}
