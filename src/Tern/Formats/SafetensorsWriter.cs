using System.Buffers.Binary;
using System.Text.Json;

namespace Tern.Formats;

/// <summary>
/// Builds a safetensors file: tensors are written in the order they were added, after a header padded to 8 bytes.
/// Data is either given up front (<see cref="Add(string, SafetensorsDType, long[], ReadOnlySpan{byte})"/>) or
/// produced by a callback while the file is written (<see cref="AddStreaming"/>), so a checkpoint of many
/// gigabytes can be built without holding it in memory. <see cref="Write"/> writes to a temporary name and renames.
/// </summary>
public sealed class SafetensorsWriter
{
    private readonly List<Entry> _entries = new();
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    /// <summary>Written as "__metadata__"; omitted when empty.</summary>
    public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);

    public int Count => _entries.Count;

    /// <summary>Adds a tensor whose little-endian bytes are given; they are copied.</summary>
    public SafetensorsWriter Add(string name, SafetensorsDType dtype, long[] shape, ReadOnlySpan<byte> data)
    {
        long size = CheckNew(name, dtype, shape);
        if (data.Length != size)
            throw new ArgumentException($"tensor '{name}': {data.Length} bytes given, shape {ShapeText(shape)} of {dtype.ToHeaderName()} needs {size}", nameof(data));
        byte[] copy = data.ToArray();
        Append(new Entry(name, dtype, (long[])shape.Clone(), size, s => s.Write(copy)));
        return this;
    }

    /// <summary>Adds float32 values stored as <paramref name="storeAs"/> (F32, F16 or BF16, rounded to nearest even).</summary>
    public SafetensorsWriter Add(string name, float[] values, long[] shape, SafetensorsDType storeAs = SafetensorsDType.F32)
    {
        if (storeAs is not (SafetensorsDType.F32 or SafetensorsDType.F16 or SafetensorsDType.BF16))
            throw new ArgumentException($"tensor '{name}': float values are stored as F32, F16 or BF16, not {storeAs.ToHeaderName()}", nameof(storeAs));
        long size = CheckNew(name, storeAs, shape);
        if ((long)values.Length * storeAs.SizeOf() != size)
            throw new ArgumentException($"tensor '{name}': {values.Length} values given, shape {ShapeText(shape)} needs {size / storeAs.SizeOf()}", nameof(values));
        var bytes = new byte[size];
        FloatConversion.FromFloat32(values, storeAs, bytes);
        Append(new Entry(name, storeAs, (long[])shape.Clone(), size, s => s.Write(bytes)));
        return this;
    }

    /// <summary>Adds a U8 tensor (packed codes, masks).</summary>
    public SafetensorsWriter Add(string name, byte[] values, long[] shape) => Add(name, SafetensorsDType.U8, shape, values);

    /// <summary>Adds an I8 tensor (ternary values, int8 weights).</summary>
    public SafetensorsWriter Add(string name, sbyte[] values, long[] shape) =>
        Add(name, SafetensorsDType.I8, shape, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));

    /// <summary>
    /// Adds a tensor whose bytes <paramref name="writeData"/> writes to the output stream during <see cref="Write"/>.
    /// The callback must advance the stream by exactly the tensor's byte size; it may write in pieces, and it may
    /// seek forward over bytes it leaves zero (the file is then sparse where the file system allows).
    /// </summary>
    public SafetensorsWriter AddStreaming(string name, SafetensorsDType dtype, long[] shape, Action<Stream> writeData)
    {
        ArgumentNullException.ThrowIfNull(writeData);
        long size = CheckNew(name, dtype, shape);
        Append(new Entry(name, dtype, (long[])shape.Clone(), size, writeData));
        return this;
    }

    /// <summary>Writes the file to <paramref name="path"/> through a temporary file in the same folder.</summary>
    public void Write(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        string temp = full + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 20))
            {
                byte[] header = BuildHeader();
                Span<byte> prefix = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
                fs.Write(prefix);
                fs.Write(header);
                foreach (var e in _entries)
                {
                    long start = fs.Position;
                    e.WriteData(fs);
                    long written = fs.Position - start;
                    if (written != e.ByteSize)
                        throw new InvalidOperationException($"tensor '{e.Name}': the data callback wrote {written} bytes, the header promises {e.ByteSize}");
                }
                // A callback that seeks over its last bytes leaves the file short; the header promised them.
                if (fs.Length < fs.Position)
                    fs.SetLength(fs.Position);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw;
        }
    }

    private byte[] BuildHeader()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            if (Metadata.Count > 0)
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in Metadata)
                    w.WriteString(k, v);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var e in _entries)
            {
                w.WriteStartObject(e.Name);
                w.WriteString("dtype", e.DType.ToHeaderName());
                w.WriteStartArray("shape");
                foreach (var d in e.Shape)
                    w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + e.ByteSize);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += e.ByteSize;
            }
            w.WriteEndObject();
        }
        // The data section starts 8-aligned (as python's safetensors pads), so F64/I64 views stay aligned.
        int length = (int)ms.Length;
        int padded = (length + 7) & ~7;
        var header = new byte[padded];
        ms.GetBuffer().AsSpan(0, length).CopyTo(header);
        header.AsSpan(length).Fill((byte)' ');
        return header;
    }

    private long CheckNew(string name, SafetensorsDType dtype, long[] shape)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(shape);
        if (name == "__metadata__")
            throw new ArgumentException("'__metadata__' is reserved", nameof(name));
        if (_names.Contains(name))
            throw new ArgumentException($"tensor '{name}' was already added", nameof(name));
        long n = 1;
        foreach (var d in shape)
        {
            if (d < 0)
                throw new ArgumentException($"tensor '{name}': negative dimension in shape {ShapeText(shape)}", nameof(shape));
            n = checked(n * d);
        }
        return checked(n * dtype.SizeOf());
    }

    private void Append(Entry e)
    {
        _names.Add(e.Name);
        _entries.Add(e);
    }

    private static string ShapeText(long[] shape) => "[" + string.Join(", ", shape) + "]";

    private sealed record Entry(string Name, SafetensorsDType DType, long[] Shape, long ByteSize, Action<Stream> WriteData);
}
