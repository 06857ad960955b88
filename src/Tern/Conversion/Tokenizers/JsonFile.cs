using System.Text.Json;

namespace Tern.Conversion.Tokenizers;

/// <summary>
/// Opens Hugging Face JSON files as <see cref="JsonDocument"/> (no reflection, so NativeAOT stays possible) and
/// turns parse errors into <see cref="InvalidDataException"/> naming the file and the position.
/// </summary>
internal static class JsonFile
{
    public static JsonDocument Open(string path)
    {
        // One read of the bytes: the 9 MB Llama 3 tokenizer.json costs the file plus JsonDocument's index, not a
        // string copy of it.
        return Tern.Formats.StrictJson.Parse(File.ReadAllBytes(path), path, maxDepth: 256);
    }

    public static JsonElement? Property(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public static JsonElement Require(JsonElement obj, string name, JsonValueKind kind, string path, string where) =>
        Property(obj, name) is { } v && v.ValueKind == kind
            ? v
            : throw new InvalidDataException($"{path}: '{where}{name}' is missing or not a{(kind == JsonValueKind.Array ? "n" : "")} {kind.ToString().ToLowerInvariant()}");

    public static string? String(JsonElement obj, string name) =>
        Property(obj, name) is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;

    public static bool? Bool(JsonElement obj, string name) =>
        Property(obj, name) is { } v && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;
}
