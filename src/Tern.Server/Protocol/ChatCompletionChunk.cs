using System.Text.Json.Serialization;

namespace Tern.Server.Protocol;

/// <summary>
/// One server-sent event of a streamed chat completion: a piece of the reply, the finish reason, or (when the
/// request asked for stream_options.include_usage) the usage with no choices, as OpenAI sends them.
/// </summary>
public sealed record ChatCompletionChunk(string Id, long Created, string Model, IReadOnlyList<ChatChunkChoice> Choices)
{
    public string Object => "chat.completion.chunk";

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Usage? Usage { get; init; }
}
