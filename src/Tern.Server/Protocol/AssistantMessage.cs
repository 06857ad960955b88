namespace Tern.Server.Protocol;

/// <summary>The assistant's whole reply.</summary>
public sealed record AssistantMessage(string Content)
{
    public string Role => "assistant";
}
