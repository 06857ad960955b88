using System.Text.Json;

namespace Tern.Tests.Server;

/// <summary>
/// What a streamed answer carried: the data of each server-sent event (before [DONE]), and whether [DONE] came.
/// Text, finish reason and usage are read from chat chunks or text completion events alike.
/// </summary>
public sealed record StreamedAnswer(IReadOnlyList<string> Events, bool Done)
{
    private IEnumerable<JsonElement> Chunks => Events.Select(e => JsonDocument.Parse(e).RootElement);

    private IEnumerable<JsonElement> Choices => Chunks.Where(c => c.TryGetProperty("choices", out _)).SelectMany(c => c.GetProperty("choices").EnumerateArray());

    /// <summary>The pieces of text, one per event that carried text.</summary>
    public IReadOnlyList<string> Pieces => [.. Choices.Select(Piece).Where(p => p.Length > 0)];

    public string Text => string.Concat(Pieces);

    public string? FinishReason => Choices.Select(c => c.GetProperty("finish_reason")).LastOrDefault(f => f.ValueKind == JsonValueKind.String).GetString();

    public JsonElement? Usage => Chunks.Where(c => c.TryGetProperty("usage", out _)).Select(c => (JsonElement?)c.GetProperty("usage")).LastOrDefault();

    public JsonElement? Error => Chunks.Where(c => c.TryGetProperty("error", out _)).Select(c => (JsonElement?)c.GetProperty("error")).LastOrDefault();

    private static string Piece(JsonElement choice) =>
        choice.TryGetProperty("delta", out var delta)
            ? (delta.TryGetProperty("content", out var content) ? content.GetString() ?? "" : "")
            : choice.GetProperty("text").GetString() ?? "";
}
