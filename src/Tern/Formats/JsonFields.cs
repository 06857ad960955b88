using System.Text.Json;

namespace Tern.Formats;

/// <summary>
/// Typed reads of JSON object fields for config files, each failure naming the file and the field. Where a key
/// repeats, the last one wins, as Python's json module (which wrote and reads these files) decides.
/// </summary>
internal readonly struct JsonFields(JsonElement obj, string path, string prefix = "")
{
    public JsonElement Element => obj;

    public string FieldName(string key) => prefix + key;

    /// <summary>The last value for <paramref name="key"/>; false when absent or JSON null.</summary>
    public bool TryGet(string key, out JsonElement value)
    {
        bool found = false;
        value = default;
        foreach (var p in obj.EnumerateObject())
        {
            if (p.NameEquals(key))
            {
                value = p.Value;
                found = true;
            }
        }
        return found && value.ValueKind != JsonValueKind.Null;
    }

    public InvalidDataException Error(string key, string problem) => new($"{path}: '{prefix}{key}' {problem}");

    private InvalidDataException WrongType(string key, JsonElement v, string expected) =>
        Error(key, $"is {Describe(v)}, expected {expected}");

    private static string Describe(JsonElement v)
    {
        string raw = v.GetRawText();
        return raw.Length <= 40 ? raw : raw[..40] + "…";
    }

    public string RequiredString(string key) => OptionalString(key) ?? throw Error(key, "is missing");

    public string? OptionalString(string key)
    {
        if (!TryGet(key, out var v)) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString()! : throw WrongType(key, v, "a string");
    }

    public int RequiredInt(string key) => OptionalInt(key) ?? throw Error(key, "is missing");

    /// <summary>An integer; 4096.0 is accepted as 4096 (some exporters write floats), 4096.5 is not.</summary>
    public int? OptionalInt(string key)
    {
        if (!TryGet(key, out var v)) return null;
        if (v.ValueKind == JsonValueKind.Number)
        {
            if (v.TryGetInt32(out int i)) return i;
            if (v.TryGetDouble(out double d) && d == Math.Floor(d) && d >= int.MinValue && d <= int.MaxValue) return (int)d;
        }
        throw WrongType(key, v, "an integer");
    }

    public double RequiredDouble(string key) => OptionalDouble(key) ?? throw Error(key, "is missing");

    public double? OptionalDouble(string key)
    {
        if (!TryGet(key, out var v)) return null;
        return v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw WrongType(key, v, "a number");
    }

    public bool? OptionalBool(string key)
    {
        if (!TryGet(key, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw WrongType(key, v, "true or false"),
        };
    }

    /// <summary>An int or an array of ints (eos_token_id may be either); null when absent.</summary>
    public IReadOnlyList<int>? OptionalIntOrIntArray(string key)
    {
        if (!TryGet(key, out var v)) return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int one)) return [one];
        if (v.ValueKind == JsonValueKind.Array)
        {
            var list = new List<int>();
            foreach (var e in v.EnumerateArray())
            {
                if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out int x))
                    throw WrongType(key, v, "an integer or an array of integers");
                list.Add(x);
            }
            return list;
        }
        throw WrongType(key, v, "an integer or an array of integers");
    }

    public IReadOnlyList<string>? OptionalStringArray(string key)
    {
        if (!TryGet(key, out var v)) return null;
        if (v.ValueKind != JsonValueKind.Array) throw WrongType(key, v, "an array of strings");
        var list = new List<string>();
        foreach (var e in v.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.String) throw WrongType(key, v, "an array of strings");
            list.Add(e.GetString()!);
        }
        return list;
    }

    public JsonFields? OptionalObject(string key)
    {
        if (!TryGet(key, out var v)) return null;
        return v.ValueKind == JsonValueKind.Object ? new JsonFields(v, path, prefix + key + ".") : throw WrongType(key, v, "an object");
    }
}
