using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Tern.Server.Protocol;

/// <summary>
/// Reads a JSON request body field by field, so that a wrong type or value is refused with a sentence that names the
/// field (OpenAI's error.param) rather than a serializer's message. A field that is absent or null takes its default;
/// fields the server does not know are ignored, as clients send many that do not apply here (user, metadata, …).
/// </summary>
internal sealed class RequestReader
{
    private readonly JsonElement _root;

    private RequestReader(JsonElement root) => _root = root;

    /// <summary>The request's JSON object; malformed JSON, or JSON that is not an object, is a 400.</summary>
    public static async Task<(JsonDocument Document, RequestReader Reader)> ReadAsync(HttpRequest request, CancellationToken cancellation)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, default, cancellation).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            throw ApiException.BadRequest($"the request body is not valid JSON: {e.Message}", code: "invalid_json");
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            var kind = document.RootElement.ValueKind;
            document.Dispose();
            throw ApiException.BadRequest($"the request body must be a JSON object, not {Describe(kind)}", code: "invalid_json");
        }

        return (document, new RequestReader(document.RootElement));
    }

    public JsonElement Root => _root;

    /// <summary>The field's value, or null when it is absent or JSON null.</summary>
    public JsonElement? Field(string name) =>
        _root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    public string? OptionalString(string name) => Field(name) is { } value ? String(value, name) : null;

    public bool OptionalBoolean(string name, bool whenAbsent)
    {
        if (Field(name) is not { } value)
            return whenAbsent;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw WrongType(name, "a boolean", value),
        };
    }

    /// <summary>A number in [<paramref name="min"/>, <paramref name="max"/>], or null when absent.</summary>
    public double? OptionalNumber(string name, double min, double max)
    {
        if (Field(name) is not { } value)
            return null;
        if (value.ValueKind != JsonValueKind.Number)
            throw WrongType(name, "a number", value);
        double number = value.GetDouble();
        if (number < min || number > max)
            throw ApiException.BadRequest($"'{name}' is {Format(number)}; it must be between {Format(min)} and {Format(max)}", name);
        return number;
    }

    /// <summary>A whole number in [<paramref name="min"/>, <paramref name="max"/>], or null when absent.</summary>
    public long? OptionalInteger(string name, long min, long max)
    {
        if (Field(name) is not { } value)
            return null;
        if (value.ValueKind != JsonValueKind.Number)
            throw WrongType(name, "an integer", value);
        if (!value.TryGetInt64(out long number))
        {
            // A fraction (1.5) or a number past long's range (1e30): neither can be a count.
            double approximate = value.GetDouble();
            if (Math.Floor(approximate) != approximate)
                throw ApiException.BadRequest($"'{name}' is {value.GetRawText()}; it must be an integer", name);
            number = approximate > 0 ? long.MaxValue : long.MinValue;
        }

        if (number < min || number > max)
            throw ApiException.BadRequest($"'{name}' is {value.GetRawText()}; it must be between {min} and {max}", name);
        return number;
    }

    /// <summary>OpenAI's stop: a string or an array of up to four strings; empty strings are dropped.</summary>
    public IReadOnlyList<string> StopSequences()
    {
        const string name = "stop";
        if (Field(name) is not { } value)
            return [];
        if (value.ValueKind == JsonValueKind.String)
            return value.GetString() is { Length: > 0 } one ? [one] : [];
        if (value.ValueKind != JsonValueKind.Array)
            throw WrongType(name, "a string or an array of strings", value);
        if (value.GetArrayLength() > 4)
            throw ApiException.BadRequest($"'stop' has {value.GetArrayLength()} sequences; at most 4 are allowed", name);
        var stops = new List<string>();
        int i = 0;
        foreach (var item in value.EnumerateArray())
        {
            string text = String(item, $"stop[{i++}]");
            if (text.Length > 0)
                stops.Add(text);
        }

        return stops;
    }

    public static string String(JsonElement value, string name) =>
        value.ValueKind == JsonValueKind.String ? value.GetString()! : throw WrongType(name, "a string", value);

    public static ApiException WrongType(string name, string expected, JsonElement value) =>
        ApiException.BadRequest($"'{name}' must be {expected}, not {Describe(value.ValueKind)}", name);

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);
}
