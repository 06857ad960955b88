namespace Tern.Server.Protocol;

/// <summary>The answer to POST /v1/chat/completions without streaming.</summary>
public sealed record ChatCompletion(string Id, long Created, string Model, IReadOnlyList<ChatChoice> Choices, Usage Usage)
{
    public string Object => "chat.completion";
}
