using System.Text.Json.Serialization;

namespace Tern.Server.Protocol;

/// <summary>The first chunk names the role; the others carry text; the last carries neither.</summary>
public sealed record ChatDelta
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Role { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Content { get; init; }
}
