namespace Tern.Server.Protocol;

/// <summary>The continuation (or a piece of it, when streamed); <see cref="FinishReason"/> is null until the end.</summary>
public sealed record TextChoice(string Text, int Index, string? FinishReason)
{
    public string? Logprobs => null;
}
