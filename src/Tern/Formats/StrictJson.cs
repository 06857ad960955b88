using System.Text.Json;
using System.Text.Unicode;

namespace Tern.Formats;

/// <summary>
/// Parses a JSON file's bytes for the checkpoint readers. JsonDocument checks UTF-8 only when a string is read, so
/// invalid bytes would surface later as an InvalidOperationException; they are checked here, up front, and every
/// failure becomes one <see cref="InvalidDataException"/> naming the file.
/// </summary>
internal static class StrictJson
{
    public static JsonDocument Parse(ReadOnlySpan<byte> utf8, string path, string what = "", int maxDepth = 64)
    {
        // Files saved by Windows editors may start with a UTF-8 byte order mark, which the JSON reader refuses.
        if (utf8.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
            utf8 = utf8[3..];
        // "file.json: not valid JSON …" or "file.json: safetensors header is not valid JSON …": the path always leads.
        string prefix = what.Length == 0 ? $"{path}:" : $"{path}: {what} is";
        if (!Utf8.IsValid(utf8))
            throw new InvalidDataException($"{prefix} not valid UTF-8");
        try
        {
            return JsonDocument.Parse(utf8.ToArray(), new JsonDocumentOptions { MaxDepth = maxDepth });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{prefix} not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine}): {e.Message}", e);
        }
    }
}
