namespace Tern.Server.Protocol;

/// <summary>The change a chunk makes to the reply; <see cref="FinishReason"/> is null until the last chunk of the choice.</summary>
public sealed record ChatChunkChoice(int Index, ChatDelta Delta, string? FinishReason)
{
    public string? Logprobs => null;
}
