using System.Buffers.Binary;
using System.Text;

namespace Tern.Gguf;

/// <summary>
/// Writes a GGUF version 3 file: metadata, tensor infos, then tensor data streamed tensor by tensor, each aligned
/// to general.alignment. Output goes to a temporary file beside the target and is renamed only once complete, so a
/// failure never leaves a half-written file under the target name.
/// </summary>
public sealed class GgufWriter
{
    private readonly List<GgufTensorSource> _tensors = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    public GgufWriter(GgufMetadata metadata)
    {
        Metadata = metadata;
        if (metadata.TryGetValue(GgufKeys.Alignment, out var a))
        {
            if (a.Type != GgufValueType.UInt32 || a.AsUInt64() == 0 || (a.AsUInt64() & (a.AsUInt64() - 1)) != 0)
                throw new ArgumentException($"'{GgufKeys.Alignment}' must be a uint32 power of two, found {a.Describe()}", nameof(metadata));
            Alignment = (uint)a.AsUInt64();
        }
    }

    public GgufMetadata Metadata { get; }

    public uint Alignment { get; } = GgufFile.DefaultAlignment;

    public IReadOnlyList<GgufTensorSource> Tensors => _tensors;

    /// <summary>Adds a tensor whose bytes the callback writes when its turn comes; the size follows from type and shape.</summary>
    public void AddTensor(string name, GgmlType type, long[] shape, Action<Stream> writeData)
    {
        long size = GgmlTypeTraits.TensorByteSize(type, shape)
            ?? throw new ArgumentException($"tensor '{name}': the size of {GgmlTypeTraits.NameOf(type)} does not follow from its shape; pass the byte size", nameof(type));
        AddTensor(new GgufTensorSource(name, type, shape, size, writeData));
    }

    /// <summary>Adds a tensor whose bytes are already in memory.</summary>
    public void AddTensor(string name, GgmlType type, long[] shape, ReadOnlyMemory<byte> data)
    {
        AddTensor(name, type, shape, s => s.Write(data.Span));
        if (_tensors[^1].ByteSize != data.Length)
        {
            _tensors.RemoveAt(_tensors.Count - 1);
            _names.Remove(name);
            throw new ArgumentException($"tensor '{name}': {data.Length} bytes given, {GgmlTypeTraits.NameOf(type)} of shape [{string.Join(", ", shape)}] needs {GgmlTypeTraits.TensorByteSize(type, shape)}", nameof(data));
        }
    }

    public void AddTensor(GgufTensorSource tensor)
    {
        if (tensor.Shape.Length is 0 or > GgufFile.MaxDimensions)
            throw new ArgumentException($"tensor '{tensor.Name}' has {tensor.Shape.Length} dimensions; 1 to {GgufFile.MaxDimensions} are allowed", nameof(tensor));
        if (!_names.Add(tensor.Name))
            throw new ArgumentException($"tensor '{tensor.Name}' added twice", nameof(tensor));
        _tensors.Add(tensor);
    }

    /// <summary>
    /// Writes the file. <paramref name="onTensorWritten"/> is called after each tensor (index, tensor) for progress.
    /// </summary>
    public void Write(string path, Action<int, GgufTensorSource>? onTensorWritten = null)
    {
        string fullPath = System.IO.Path.GetFullPath(path);
        string directory = System.IO.Path.GetDirectoryName(fullPath)!;
        string temp = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                WriteTo(file, onTensorWritten);
                file.Flush(flushToDisk: false);
            }

            File.Move(temp, fullPath, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Writes the whole file to a stream (positioned at 0; only forward writes).</summary>
    public void WriteTo(Stream output, Action<int, GgufTensorSource>? onTensorWritten = null)
    {
        var header = new GgufStreamWriter(output);
        header.UInt32(GgufFile.Magic);
        header.UInt32(3);
        header.UInt64((ulong)_tensors.Count);
        header.UInt64((ulong)Metadata.Count);
        foreach (var (key, value) in Metadata)
        {
            header.String(key);
            header.UInt32((uint)value.Type);
            header.Value(value);
        }

        ulong offset = 0;
        foreach (var t in _tensors)
        {
            header.String(t.Name);
            header.UInt32((uint)t.Shape.Length);
            foreach (var d in t.Shape)
                header.UInt64((ulong)d);
            header.UInt32(GgmlTypeTraits.FileId(t.Type));
            header.UInt64(offset);
            offset = (ulong)GgufFile.AlignUp((long)offset + t.ByteSize, Alignment);
        }

        header.Pad(Alignment);

        for (int i = 0; i < _tensors.Count; i++)
        {
            var t = _tensors[i];
            var counting = new CountingStream(output);
            t.WriteData(counting);
            if (counting.Count != t.ByteSize)
                throw new InvalidOperationException($"tensor '{t.Name}': the writer produced {counting.Count} bytes, {GgmlTypeTraits.NameOf(t.Type)} of shape [{string.Join(", ", t.Shape)}] needs {t.ByteSize}");
            header.Advance(counting.Count);
            header.Pad(Alignment);
            onTensorWritten?.Invoke(i, t);
        }

    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Little-endian primitive writer that tracks the position for padding.</summary>
    private sealed class GgufStreamWriter(Stream output)
    {
        private readonly byte[] _scratch = new byte[8];

        public long Position { get; private set; }

        public void Advance(long count) => Position += count;

        private void Write(ReadOnlySpan<byte> bytes)
        {
            output.Write(bytes);
            Position += bytes.Length;
        }

        public void UInt8(byte v) => Write([v]);
        public void UInt16(ushort v) { BinaryPrimitives.WriteUInt16LittleEndian(_scratch, v); Write(_scratch.AsSpan(0, 2)); }
        public void UInt32(uint v) { BinaryPrimitives.WriteUInt32LittleEndian(_scratch, v); Write(_scratch.AsSpan(0, 4)); }
        public void UInt64(ulong v) { BinaryPrimitives.WriteUInt64LittleEndian(_scratch, v); Write(_scratch.AsSpan(0, 8)); }
        public void Float32(float v) { BinaryPrimitives.WriteSingleLittleEndian(_scratch, v); Write(_scratch.AsSpan(0, 4)); }
        public void Float64(double v) { BinaryPrimitives.WriteDoubleLittleEndian(_scratch, v); Write(_scratch.AsSpan(0, 8)); }

        public void String(string s)
        {
            var bytes = Encoding.UTF8.GetBytes(s);
            UInt64((ulong)bytes.Length);
            Write(bytes);
        }

        public void Pad(uint alignment)
        {
            long padded = GgufFile.AlignUp(Position, alignment);
            Span<byte> zeros = stackalloc byte[256];
            zeros.Clear();
            while (Position < padded)
                Write(zeros[..(int)Math.Min(zeros.Length, padded - Position)]);
        }

        public void Value(GgufValue value)
        {
            switch (value.Type)
            {
                case GgufValueType.Array:
                    Array(value);
                    break;
                default:
                    Scalar(value.Type, value.RawValue);
                    break;
            }
        }

        private void Scalar(GgufValueType type, object v)
        {
            switch (type)
            {
                case GgufValueType.UInt8: UInt8((byte)v); break;
                case GgufValueType.Int8: UInt8((byte)(sbyte)v); break;
                case GgufValueType.UInt16: UInt16((ushort)v); break;
                case GgufValueType.Int16: UInt16((ushort)(short)v); break;
                case GgufValueType.UInt32: UInt32((uint)v); break;
                case GgufValueType.Int32: UInt32((uint)(int)v); break;
                case GgufValueType.Float32: Float32((float)v); break;
                case GgufValueType.Bool: UInt8((bool)v ? (byte)1 : (byte)0); break;
                case GgufValueType.String: String((string)v); break;
                case GgufValueType.UInt64: UInt64((ulong)v); break;
                case GgufValueType.Int64: UInt64((ulong)(long)v); break;
                case GgufValueType.Float64: Float64((double)v); break;
                default: throw new InvalidOperationException($"cannot write a scalar of type {type}");
            }
        }

        private void Array(GgufValue value)
        {
            UInt32((uint)value.ElementType);
            UInt64((ulong)value.ArrayLength);
            switch (value.RawValue)
            {
                case byte[] a: Write(a); break;
                case sbyte[] a: Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan())); break;
                case ushort[] a: Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan())); break;
                case short[] a: Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan())); break;
                case uint[] a: Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan())); break;
                case int[] a: Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan())); break;
                case float[] a: Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan())); break;
                case ulong[] a: Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan())); break;
                case long[] a: Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan())); break;
                case double[] a: Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan())); break;
                case bool[] a:
                    foreach (var b in a)
                        UInt8(b ? (byte)1 : (byte)0);
                    break;
                case string[] a:
                    foreach (var s in a)
                        String(s);
                    break;
                case GgufValue[] a:
                    foreach (var inner in a)
                        Array(inner);
                    break;
                default:
                    throw new InvalidOperationException($"cannot write an array of {value.ElementType}");
            }
        }
    }
}
