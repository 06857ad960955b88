using System.Buffers.Binary;
using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace Tern.Formats;

/// <summary>
/// A safetensors file, read with positioned reads (no memory map): the header is parsed and checked on open, and
/// tensor data is copied out a range at a time with <see cref="ReadBytes(SafetensorsTensorInfo, long, Span{byte})"/> or
/// converted row by row with <see cref="ReadRowsAsFloat"/>. A map would leave every page the converter touched in the
/// process's resident set (5 GB for a 5 GB checkpoint); reads go through the page cache, which the kernel reclaims,
/// so converting a multi-gigabyte checkpoint needs only the buffers in flight. Safe to read from several threads.
/// </summary>
public sealed class SafetensorsFile : IDisposable
{
    private readonly SafeFileHandle _handle;
    private readonly long _dataStart;
    private readonly Dictionary<string, SafetensorsTensorInfo> _byName;
    private bool _disposed;

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
        _handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        try
        {
            long fileLength = RandomAccess.GetLength(_handle);
            if (fileLength < 8)
                throw new InvalidDataException($"{path}: {fileLength} bytes is too short for a safetensors file (8-byte header length missing)");

            Span<byte> prefix = stackalloc byte[8];
            ReadExactly(0, prefix);
            ulong declared = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
            long headerLength = SafetensorsHeader.CheckHeaderLength(declared, fileLength, path);
            _dataStart = 8 + headerLength;
            DataLength = fileLength - _dataStart;
            var headerBytes = new byte[headerLength];
            ReadExactly(8, headerBytes);
            var header = SafetensorsHeader.Parse(headerBytes, DataLength, path);
            Tensors = header.Tensors;
            Metadata = header.Metadata;
            _byName = new Dictionary<string, SafetensorsTensorInfo>(StringComparer.Ordinal);
            foreach (var t in Tensors)
                _byName[t.Name] = t;
        }
        catch
        {
            _handle.Dispose();
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

    /// <summary>Copies destination.Length bytes of a tensor's data, starting <paramref name="offset"/> bytes into it.</summary>
    public void ReadBytes(SafetensorsTensorInfo info, long offset, Span<byte> destination)
    {
        CheckOwned(info);
        if (offset < 0 || offset > info.ByteSize - destination.Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"bytes {offset}..{offset + destination.Length} are outside tensor '{info.Name}' ({info.ByteSize} bytes)");
        ReadExactly(_dataStart + info.DataBegin + offset, destination);
    }

    /// <summary>A copy of <paramref name="length"/> bytes of a tensor's data, starting <paramref name="offset"/> bytes into it.</summary>
    public byte[] ReadBytes(SafetensorsTensorInfo info, long offset, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var result = new byte[length];
        ReadBytes(info, offset, result);
        return result;
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
        long start = firstRow * rowLength * size;
        // Read and convert in slices: a bounded buffer, and spans that never exceed int range even for F64 rows.
        const int chunk = 1 << 20;
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(chunk, count) * size);
        try
        {
            for (long done = 0; done < count;)
            {
                int n = (int)Math.Min(chunk, count - done);
                var bytes = buffer.AsSpan(0, n * size);
                ReadBytes(info, start + (done * size), bytes);
                FloatConversion.ToFloat32(info.DType, bytes, dst.Slice((int)done, n));
                done += n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void ReadExactly(long fileOffset, Span<byte> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        while (!destination.IsEmpty)
        {
            int n = RandomAccess.Read(_handle, destination, fileOffset);
            if (n == 0)
                throw new InvalidDataException($"{Path}: file is shorter than its header says (ended at byte {fileOffset})");
            destination = destination[n..];
            fileOffset += n;
        }
    }

    private void CheckOwned(SafetensorsTensorInfo info)
    {
        // An info from another file would index this one with someone else's offsets.
        if (!_byName.TryGetValue(info.Name, out var own) || !ReferenceEquals(own, info) && own != info)
            throw new ArgumentException($"tensor '{info.Name}' does not belong to {Path}", nameof(info));
    }

    public void Dispose()
    {
        _disposed = true;
        _handle.Dispose();
    }
}
