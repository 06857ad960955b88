using System.Text.Json;

namespace Tern.Formats;

/// <summary>
/// The parsed and checked JSON header of a safetensors file. Every claim the header makes about the data is
/// checked against the file length before anything is read, so a header that lies fails here with the file and
/// the tensor named, not later as a wild read.
/// </summary>
internal sealed class SafetensorsHeader
{
    /// <summary>The reference implementation refuses headers above 100 MB; no real checkpoint comes close.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public required IReadOnlyList<SafetensorsTensorInfo> Tensors { get; init; }
    public required IReadOnlyDictionary<string, string> Metadata { get; init; }

    /// <summary>Checks the 8-byte length prefix against the file size; returns the header length.</summary>
    public static long CheckHeaderLength(ulong declared, long fileLength, string path)
    {
        if (declared > MaxHeaderBytes)
            throw new InvalidDataException($"{path}: safetensors header length {declared} is above the 100 MB limit (not a safetensors file, or a corrupt one)");
        if ((long)declared > fileLength - 8)
            throw new InvalidDataException($"{path}: safetensors header length {declared} runs past the end of the file ({fileLength} bytes)");
        if (declared < 2)
            throw new InvalidDataException($"{path}: safetensors header length {declared} is too small for a JSON object");
        return (long)declared;
    }

    public static SafetensorsHeader Parse(ReadOnlySpan<byte> json, long dataLength, string path)
    {
        var doc = StrictJson.Parse(json, path, "safetensors header", maxDepth: 16);

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{path}: safetensors header is a JSON {root.ValueKind}, not an object");

            var tensors = new List<SafetensorsTensorInfo>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            IReadOnlyDictionary<string, string> metadata = new Dictionary<string, string>();
            bool sawMetadata = false;
            foreach (var prop in root.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                {
                    if (sawMetadata)
                        throw new InvalidDataException($"{path}: safetensors header has '__metadata__' twice");
                    sawMetadata = true;
                    metadata = ParseMetadata(prop.Value, path);
                    continue;
                }
                // JSON allows repeated keys; a header that names a tensor twice says two things about one tensor.
                if (!names.Add(prop.Name))
                    throw new InvalidDataException($"{path}: tensor '{prop.Name}' appears twice in the safetensors header");
                tensors.Add(ParseTensor(prop.Name, prop.Value, dataLength, path));
            }

            CheckNoOverlap(tensors, path);
            return new SafetensorsHeader { Tensors = tensors, Metadata = metadata };
        }
    }

    private static Dictionary<string, string> ParseMetadata(JsonElement value, string path)
    {
        if (value.ValueKind == JsonValueKind.Null)
            return new Dictionary<string, string>();
        if (value.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: safetensors '__metadata__' is a JSON {value.ValueKind}, not an object of strings");
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in value.EnumerateObject())
        {
            // The format allows only string values here; python's safetensors refuses anything else too.
            if (p.Value.ValueKind != JsonValueKind.String)
                throw new InvalidDataException($"{path}: safetensors '__metadata__.{p.Name}' is a JSON {p.Value.ValueKind}, not a string");
            result[p.Name] = p.Value.GetString()!;
        }
        return result;
    }

    private static SafetensorsTensorInfo ParseTensor(string name, JsonElement e, long dataLength, string path)
    {
        string where = $"{path}: tensor '{name}'";
        if (e.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{where}: header entry is a JSON {e.ValueKind}, not an object");

        if (!e.TryGetProperty("dtype", out var dtypeEl))
            throw new InvalidDataException($"{where}: missing 'dtype'");
        if (dtypeEl.ValueKind != JsonValueKind.String)
            throw new InvalidDataException($"{where}: 'dtype' is a JSON {dtypeEl.ValueKind}, not a string");
        string dtypeText = dtypeEl.GetString()!;
        if (!SafetensorsDTypes.TryParse(dtypeText, out var dtype))
            throw new InvalidDataException($"{where}: unknown dtype '{dtypeText}'");

        if (!e.TryGetProperty("shape", out var shapeEl))
            throw new InvalidDataException($"{where}: missing 'shape'");
        if (shapeEl.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{where}: 'shape' is a JSON {shapeEl.ValueKind}, not an array");
        var shape = new long[shapeEl.GetArrayLength()];
        int i = 0;
        foreach (var d in shapeEl.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long dim) || dim < 0)
                throw new InvalidDataException($"{where}: 'shape[{i}]' is {d.GetRawText()}, not a non-negative integer");
            shape[i++] = dim;
        }

        if (!e.TryGetProperty("data_offsets", out var offEl))
            throw new InvalidDataException($"{where}: missing 'data_offsets'");
        if (offEl.ValueKind != JsonValueKind.Array || offEl.GetArrayLength() != 2)
            throw new InvalidDataException($"{where}: 'data_offsets' is {offEl.GetRawText()}, not [begin, end]");
        long begin = ReadOffset(offEl[0], where, "data_offsets[0]");
        long end = ReadOffset(offEl[1], where, "data_offsets[1]");
        if (begin > end)
            throw new InvalidDataException($"{where}: 'data_offsets' begin {begin} is after end {end}");
        if (end > dataLength)
            throw new InvalidDataException($"{where}: 'data_offsets' end {end} is past the end of the data ({dataLength} bytes)");

        long elements = 1;
        foreach (var d in shape)
        {
            if (d != 0 && elements > long.MaxValue / d)
                throw new InvalidDataException($"{where}: shape {ShapeText(shape)} has more elements than a 64-bit count holds");
            elements *= d;
        }
        int size = dtype.SizeOf();
        if (elements > long.MaxValue / size)
            throw new InvalidDataException($"{where}: shape {ShapeText(shape)} of {dtypeText} is larger than a 64-bit byte count holds");
        if (end - begin != elements * size)
            throw new InvalidDataException($"{where}: 'data_offsets' span {end - begin} bytes but shape {ShapeText(shape)} of {dtypeText} needs {elements * size}");

        return new SafetensorsTensorInfo(name, dtype, shape, begin, end);
    }

    private static long ReadOffset(JsonElement el, string where, string field)
    {
        if (el.ValueKind != JsonValueKind.Number || !el.TryGetUInt64(out ulong v) || v > long.MaxValue)
            throw new InvalidDataException($"{where}: '{field}' is {el.GetRawText()}, not a byte offset");
        return (long)v;
    }

    private static void CheckNoOverlap(List<SafetensorsTensorInfo> tensors, string path)
    {
        // Empty tensors occupy no bytes and may share an offset with anything.
        var spans = tensors.Where(t => t.DataEnd > t.DataBegin).OrderBy(t => t.DataBegin).ToList();
        for (int i = 1; i < spans.Count; i++)
        {
            var prev = spans[i - 1];
            var cur = spans[i];
            if (cur.DataBegin < prev.DataEnd)
                throw new InvalidDataException(
                    $"{path}: tensor '{cur.Name}' (bytes {cur.DataBegin}..{cur.DataEnd}) overlaps tensor '{prev.Name}' (bytes {prev.DataBegin}..{prev.DataEnd})");
        }
    }

    private static string ShapeText(long[] shape) => "[" + string.Join(", ", shape) + "]";
}
