using System.Text.Json.Serialization;

namespace Tern.Server.Protocol;

/// <summary>
/// The answer to POST /v1/completions, and (with the piece so far and no usage) each event of its stream: OpenAI uses
/// the same object for both.
/// </summary>
public sealed record TextCompletion(string Id, long Created, string Model, IReadOnlyList<TextChoice> Choices)
{
    public string Object => "text_completion";

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Usage? Usage { get; init; }
}
