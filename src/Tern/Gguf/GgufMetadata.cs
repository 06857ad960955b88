using System.Collections;

namespace Tern.Gguf;

/// <summary>
/// The key/value metadata of a GGUF file, in file order. Typed getters name the key in their errors so that a
/// missing or mistyped field is reported as such.
/// </summary>
public sealed class GgufMetadata : IEnumerable<KeyValuePair<string, GgufValue>>
{
    private readonly OrderedDictionary<string, GgufValue> _entries = new(StringComparer.Ordinal);

    public int Count => _entries.Count;

    public IEnumerable<string> Keys => _entries.Keys;

    public GgufValue this[string key]
    {
        get => _entries.TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"metadata key '{key}' is missing");
        set => _entries[key] = value ?? throw new ArgumentNullException(nameof(value));
    }

    public bool ContainsKey(string key) => _entries.ContainsKey(key);

    public bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out GgufValue? value) =>
        _entries.TryGetValue(key, out value);

    /// <summary>Adds a key that must not exist yet (a file may not repeat a key).</summary>
    public void Add(string key, GgufValue value)
    {
        if (!_entries.TryAdd(key, value))
            throw new InvalidDataException($"metadata key '{key}' appears twice");
    }

    public bool Remove(string key) => _entries.Remove(key);

    public void Set(string key, string value) => this[key] = GgufValue.FromString(value);
    public void Set(string key, uint value) => this[key] = GgufValue.FromUInt32(value);
    public void Set(string key, int value) => this[key] = GgufValue.FromInt32(value);
    public void Set(string key, float value) => this[key] = GgufValue.FromFloat32(value);
    public void Set(string key, bool value) => this[key] = GgufValue.FromBool(value);
    public void Set(string key, ulong value) => this[key] = GgufValue.FromUInt64(value);

    public string GetString(string key) => Get(key, v => v.AsString());
    public ulong GetUInt64(string key) => Get(key, v => v.AsUInt64());
    public long GetInt64(string key) => Get(key, v => v.AsInt64());
    public int GetInt32(string key) => Get(key, v => v.AsInt32());
    public uint GetUInt32(string key) => Get(key, v => checked((uint)v.AsUInt64()));
    public float GetSingle(string key) => Get(key, v => v.AsSingle());
    public bool GetBool(string key) => Get(key, v => v.AsBool());
    public T[] GetArray<T>(string key) => Get(key, v => v.AsArray<T>());

    public string? GetStringOrDefault(string key) => TryGetValue(key, out var v) ? Get(key, x => x.AsString()) : null;
    public long? GetInt64OrDefault(string key) => TryGetValue(key, out _) ? GetInt64(key) : null;
    public float? GetSingleOrDefault(string key) => TryGetValue(key, out _) ? GetSingle(key) : null;

    /// <summary>The model architecture (general.architecture), or null.</summary>
    public string? Architecture => GetStringOrDefault(GgufKeys.Architecture);

    private T Get<T>(string key, Func<GgufValue, T> read)
    {
        var value = this[key];
        try
        {
            return read(value);
        }
        catch (Exception e) when (e is InvalidDataException or OverflowException)
        {
            throw new InvalidDataException($"metadata key '{key}': {e.Message}", e);
        }
    }

    public IEnumerator<KeyValuePair<string, GgufValue>> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
