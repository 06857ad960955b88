using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;

namespace Tern.Formats;

/// <summary>
/// A safetensors file, memory-mapped read-only. The header is parsed and checked on open; tensor data is read in
/// place through <see cref="GetBytes"/> or converted row by row with <see cref="ReadRowsAsFloat"/>, so a
/// multi-gigabyte checkpoint is never copied whole. Safe to read from several threads; not after Dispose.
/// </summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private byte* _base;
    private readonly long _dataStart;
    private readonly Dictionary<string, SafetensorsTensorInfo> _byName;

    public string Path { get; }

    /// <summary>Tensors in header order.</summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }

    /// <summary>The header's "__metadata__" (string to string), empty when absent.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Bytes of the data section (file length minus the 8-byte prefix and the header).</summary>
    public long DataLength { get; }

    private SafetensorsFile(string path)
    {
        Path = path;
        long fileLength = new FileInfo(path).Length;
        if (fileLength < 8)
            throw new InvalidDataException($"{path}: {fileLength} bytes is too short for a safetensors file (8-byte header length missing)");

        _map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, mapName: null, capacity: 0, MemoryMappedFileAccess.Read);
        try
        {
            _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* p = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            _base = p + _view.PointerOffset;

            ulong declared = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(_base, 8));
            long headerLength = SafetensorsHeader.CheckHeaderLength(declared, fileLength, path);
            _dataStart = 8 + headerLength;
            DataLength = fileLength - _dataStart;
            var header = SafetensorsHeader.Parse(new ReadOnlySpan<byte>(_base + 8, (int)headerLength), DataLength, path);
            Tensors = header.Tensors;
            Metadata = header.Metadata;
            _byName = new Dictionary<string, SafetensorsTensorInfo>(StringComparer.Ordinal);
            foreach (var t in Tensors)
                _byName[t.Name] = t;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Opens and checks a safetensors file; <see cref="InvalidDataException"/> names the file and the tensor or field at fault.</summary>
    public static SafetensorsFile Open(string path) => new(path);

    public bool Contains(string name) => _byName.ContainsKey(name);

    public bool TryGetTensor(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SafetensorsTensorInfo? info) =>
        _byName.TryGetValue(name, out info);

    public SafetensorsTensorInfo GetTensor(string name) =>
        _byName.TryGetValue(name, out var info) ? info : throw new KeyNotFoundException($"{Path}: no tensor named '{name}'");

    /// <summary>
    /// <paramref name="length"/> bytes of a tensor's data starting <paramref name="offset"/> bytes into it, straight
    /// from the mapping (valid until Dispose).
    /// </summary>
    public ReadOnlySpan<byte> GetBytes(SafetensorsTensorInfo info, long offset, int length)
    {
        CheckOwned(info);
        if (offset < 0 || length < 0 || offset > info.ByteSize - length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"bytes {offset}..{offset + length} are outside tensor '{info.Name}' ({info.ByteSize} bytes)");
        return new ReadOnlySpan<byte>(BasePointer + _dataStart + info.DataBegin + offset, length);
    }

    /// <summary>All of a tensor's bytes; only for tensors under 2 GiB.</summary>
    public ReadOnlySpan<byte> GetBytes(SafetensorsTensorInfo info)
    {
        if (info.ByteSize > int.MaxValue)
            throw new ArgumentException($"tensor '{info.Name}' is {info.ByteSize} bytes; read it in parts", nameof(info));
        return GetBytes(info, 0, (int)info.ByteSize);
    }

    /// <summary>
    /// Converts <paramref name="rowCount"/> rows starting at <paramref name="firstRow"/> to float32 into
    /// <paramref name="dst"/> (row-major, <see cref="SafetensorsTensorInfo.RowLength"/> floats a row).
    /// A 1-D tensor is one row; a tensor of more dimensions has rows of all but its outermost one.
    /// Floats are widened exactly (F16, BF16, F8) or rounded (F64); integer types (U8, I8 …) give their raw values.
    /// </summary>
    public void ReadRowsAsFloat(SafetensorsTensorInfo info, long firstRow, int rowCount, Span<float> dst)
    {
        CheckOwned(info);
        long rows = info.RowCount, rowLength = info.RowLength;
        if (firstRow < 0 || rowCount < 0 || firstRow > rows - rowCount)
            throw new ArgumentOutOfRangeException(nameof(firstRow), $"rows {firstRow}..{firstRow + rowCount} are outside tensor '{info.Name}' ({rows} rows)");
        long count = rowCount * rowLength;
        if (dst.Length < count)
            throw new ArgumentException($"destination holds {dst.Length} floats; {rowCount} rows of '{info.Name}' need {count}", nameof(dst));

        int size = info.DType.SizeOf();
        byte* src = BasePointer + _dataStart + info.DataBegin + firstRow * rowLength * size;
        // Convert in slices so that a span of source bytes never exceeds int range even for F64 rows.
        const int chunk = 1 << 20;
        for (long done = 0; done < count;)
        {
            int n = (int)Math.Min(chunk, count - done);
            FloatConversion.ToFloat32(info.DType, new ReadOnlySpan<byte>(src + done * size, n * size), dst.Slice((int)done, n));
            done += n;
        }
    }

    private byte* BasePointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(_base == null, this);
            return _base;
        }
    }

    private void CheckOwned(SafetensorsTensorInfo info)
    {
        // An info from another file would index this mapping with someone else's offsets.
        if (!_byName.TryGetValue(info.Name, out var own) || !ReferenceEquals(own, info) && own != info)
            throw new ArgumentException($"tensor '{info.Name}' does not belong to {Path}", nameof(info));
    }

    public void Dispose()
    {
        if (_base != null)
        {
            _base = null;
            _view!.SafeMemoryMappedViewHandle.ReleasePointer();
        }
        _view?.Dispose();
        _map?.Dispose();
    }
}
