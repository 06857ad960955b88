using System.IO.MemoryMappedFiles;

namespace Tern.Gguf;

/// <summary>
/// A GGUF file (versions 2 and 3) opened over a read-only memory map: metadata, tensor infos, and spans over tensor
/// data that point into the map without copying. Everything in the header is validated on open, so a truncated or
/// corrupt file fails here with a message that names the file and the field, never later in a kernel.
/// Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
/// </summary>
public sealed unsafe class GgufFile : IDisposable
{
    /// <summary>"GGUF" read as a little-endian uint32.</summary>
    public const uint Magic = 0x46554747;

    /// <summary>The alignment of tensor data when general.alignment is absent.</summary>
    public const uint DefaultAlignment = 32;

    /// <summary>ggml's GGML_MAX_DIMS.</summary>
    public const int MaxDimensions = 4;

    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _base;
    private readonly Dictionary<string, GgufTensorInfo> _byName;
    private bool _disposed;

    private GgufFile(string path, long length, MemoryMappedFile? map, MemoryMappedViewAccessor? view, byte* @base, GgufReadOptions options)
    {
        Path = path;
        FileLength = length;
        _map = map;
        _view = view;
        _base = @base;

        var cursor = new GgufHeaderCursor(@base, length, path);
        uint magic = cursor.ReadUInt32("magic");
        if (magic != Magic)
            throw cursor.Error($"not a GGUF file: magic is 0x{magic:X8}, expected 0x{Magic:X8} (\"GGUF\")");

        uint version = cursor.ReadUInt32("version");
        if (version is not (2 or 3))
        {
            uint swapped = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(version);
            if (swapped is 2 or 3)
                throw cursor.Error("big-endian GGUF files are not supported");
            throw cursor.Error($"GGUF version {version} is not supported (versions 2 and 3 are)");
        }

        Version = (int)version;

        ulong tensorCount = cursor.ReadUInt64("tensor count");
        ulong kvCount = cursor.ReadUInt64("metadata count");
        // A key/value pair takes at least 8 (key length) + 4 (type) + 1 bytes; a tensor info at least 8 + 4 + 4 + 8.
        int kvs = cursor.CheckCount(kvCount, 13, "metadata count");
        int tensors = cursor.CheckCount(tensorCount, 24, "tensor count");

        var metadata = new GgufMetadata();
        for (int i = 0; i < kvs; i++)
        {
            string key = cursor.ReadString($"metadata key #{i}");
            uint type = cursor.ReadUInt32($"type of metadata key '{key}'");
            if (type > (uint)GgufValueType.Float64)
                throw cursor.Error($"metadata key '{key}': unknown value type {type}");
            var value = cursor.ReadValue((GgufValueType)type, $"metadata key '{key}'");
            if (metadata.ContainsKey(key))
                throw cursor.Error($"metadata key '{key}' appears twice");
            metadata.Add(key, value);
        }

        Metadata = metadata;
        Alignment = ReadAlignment(metadata, cursor);

        var raw = new RawTensorInfo[tensors];
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < tensors; i++)
        {
            string name = cursor.ReadString($"name of tensor #{i}");
            if (!names.Add(name))
                throw cursor.Error($"tensor '{name}' appears twice");
            uint dims = cursor.ReadUInt32($"tensor '{name}' dimension count");
            if (dims is 0 or > MaxDimensions)
                throw cursor.Error($"tensor '{name}' has {dims} dimensions; 1 to {MaxDimensions} are allowed");
            var shape = new long[dims];
            for (int d = 0; d < dims; d++)
            {
                ulong ne = cursor.ReadUInt64($"tensor '{name}' dimension {d}");
                if (ne > long.MaxValue / 2)
                    throw cursor.Error($"tensor '{name}' dimension {d} is {ne}, which is absurd");
                shape[d] = (long)ne;
            }

            uint typeId = cursor.ReadUInt32($"tensor '{name}' type");
            ulong offset = cursor.ReadUInt64($"tensor '{name}' offset");
            raw[i] = new RawTensorInfo(name, shape, typeId, offset);
        }

        long headerEnd = cursor.Position;
        DataOffset = AlignUp(headerEnd, Alignment);
        if (tensors > 0 && DataOffset > length)
            throw new InvalidDataException($"{path}: file is truncated: the tensor data section would start at byte {DataOffset}, past the end ({length} bytes)");
        long dataLength = Math.Max(0, length - DataOffset);

        UsesAmbiguousTypeIds = raw.Any(r => GgmlTypeTraits.IsAmbiguousId(r.TypeId));
        (Dialect, DialectReason) = options.Dialect is { } forced
            ? (forced, $"chosen by the caller ({forced})")
            : DecideDialect(raw, metadata.Architecture, dataLength);

        var infos = new GgufTensorInfo[tensors];
        var sorted = raw.Select((r, i) => (r, i)).OrderBy(t => t.r.Offset).ToArray();
        for (int k = 0; k < sorted.Length; k++)
        {
            var (r, i) = sorted[k];
            ulong extentEnd = k + 1 < sorted.Length ? sorted[k + 1].r.Offset : (ulong)dataLength;
            infos[i] = Resolve(r, Dialect, extentEnd, dataLength, path);
        }

        // Overlap check: sorted by offset, each tensor must end at or before the next begins.
        for (int k = 0; k + 1 < sorted.Length; k++)
        {
            var a = infos[sorted[k].i];
            var b = infos[sorted[k + 1].i];
            if (a.Offset + (ulong)a.ByteSize > b.Offset)
                throw new InvalidDataException($"{path}: tensor '{a.Name}' (offset {a.Offset}, {a.ByteSize} bytes) overlaps tensor '{b.Name}' (offset {b.Offset})");
        }

        Tensors = infos;
        _byName = infos.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    private readonly record struct RawTensorInfo(string Name, long[] Shape, uint TypeId, ulong Offset);

    /// <summary>The path the file was opened from.</summary>
    public string Path { get; }

    /// <summary>GGUF version (2 or 3).</summary>
    public int Version { get; }

    public long FileLength { get; }

    public GgufMetadata Metadata { get; }

    /// <summary>Tensor infos in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <summary>general.alignment, or 32.</summary>
    public uint Alignment { get; }

    /// <summary>Absolute file offset of the tensor data section.</summary>
    public long DataOffset { get; }

    /// <summary>How ids 36–39 were read in this file.</summary>
    public GgmlTypeDialect Dialect { get; }

    /// <summary>Why <see cref="Dialect"/> was chosen, in words, for `tern info` and logs.</summary>
    public string DialectReason { get; }

    /// <summary>Whether any tensor used an id (36–39) whose meaning had to be decided.</summary>
    public bool UsesAmbiguousTypeIds { get; }

    /// <summary>Opens and validates a GGUF file.</summary>
    public static GgufFile Open(string path, GgufReadOptions? options = null)
    {
        options ??= new GgufReadOptions();
        if (Directory.Exists(path))
            throw new InvalidDataException($"{path}: is a folder, not a GGUF file");
        var info = new FileInfo(path);
        if (!info.Exists)
            throw new FileNotFoundException($"{path}: file not found", path);
        long length = info.Length;
        if (length == 0)
            throw new InvalidDataException($"{path}: file is empty");

        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        bool acquired = false;
        try
        {
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* ptr = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref ptr);
            acquired = true;
            ptr += view.PointerOffset;
            return new GgufFile(path, length, map, view, ptr, options);
        }
        catch
        {
            if (acquired)
                view!.SafeMemoryMappedViewHandle.ReleasePointer();
            view?.Dispose();
            map.Dispose();
            throw;
        }
    }

    public GgufTensorInfo GetTensor(string name) =>
        _byName.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"{Path}: no tensor named '{name}'");

    public bool TryGetTensor(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out GgufTensorInfo? tensor) =>
        _byName.TryGetValue(name, out tensor);

    /// <summary>The tensor's bytes, pointing into the map (valid until the file is disposed).</summary>
    public ReadOnlySpan<byte> GetTensorData(GgufTensorInfo tensor)
    {
        if (tensor.ByteSize > int.MaxValue)
            throw new InvalidOperationException($"{Path}: tensor '{tensor.Name}' is {tensor.ByteSize} bytes, too large for one span; read it in slices");
        return GetTensorData(tensor, 0, (int)tensor.ByteSize);
    }

    /// <summary>A slice of a tensor's bytes, for tensors larger than 2 GiB or row-by-row streaming.</summary>
    public ReadOnlySpan<byte> GetTensorData(GgufTensorInfo tensor, long offset, int length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (offset < 0 || length < 0 || offset + length > tensor.ByteSize)
            throw new ArgumentOutOfRangeException(nameof(offset), $"slice [{offset}, {offset + length}) is outside tensor '{tensor.Name}' ({tensor.ByteSize} bytes)");
        return new ReadOnlySpan<byte>(_base + DataOffset + (long)tensor.Offset + offset, length);
    }

    /// <summary>
    /// Copies the tensor's bytes with a file read rather than through the map. For tensors that are decoded or
    /// repacked once at load: pages read through the map would stay resident in this process beside the copy.
    /// </summary>
    public byte[] ReadTensorData(GgufTensorInfo tensor)
    {
        if (tensor.ByteSize > Array.MaxLength)
            throw new InvalidOperationException($"{Path}: tensor '{tensor.Name}' is {tensor.ByteSize} bytes, too large to copy");
        return ReadTensorData(tensor, 0, (int)tensor.ByteSize);
    }

    /// <summary>A slice of a tensor's bytes, copied with a file read (see <see cref="ReadTensorData(GgufTensorInfo)"/>).</summary>
    public byte[] ReadTensorData(GgufTensorInfo tensor, long offset, int length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (offset < 0 || length < 0 || offset + length > tensor.ByteSize)
            throw new ArgumentOutOfRangeException(nameof(offset), $"slice [{offset}, {offset + length}) is outside tensor '{tensor.Name}' ({tensor.ByteSize} bytes)");
        var data = new byte[length];
        using var handle = File.OpenHandle(Path, FileMode.Open, FileAccess.Read, FileShare.Read);
        long position = DataOffset + (long)tensor.Offset + offset;
        for (int done = 0; done < data.Length;)
        {
            int read = RandomAccess.Read(handle, data.AsSpan(done), position + done);
            if (read == 0)
                throw new InvalidDataException($"{Path}: the file ended inside tensor '{tensor.Name}'");
            done += read;
        }

        return data;
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _view?.SafeMemoryMappedViewHandle.ReleasePointer();
        _view?.Dispose();
        _map?.Dispose();
    }

    private static uint ReadAlignment(GgufMetadata metadata, GgufHeaderCursor cursor)
    {
        if (!metadata.TryGetValue(GgufKeys.Alignment, out var v))
            return DefaultAlignment;
        if (v.Type != GgufValueType.UInt32)
            throw cursor.Error($"metadata key '{GgufKeys.Alignment}' must be a uint32, found {v.Describe()}");
        uint a = (uint)v.AsUInt64();
        if (a == 0 || (a & (a - 1)) != 0)
            throw cursor.Error($"metadata key '{GgufKeys.Alignment}' is {a}, not a power of two");
        return a;
    }

    internal static long AlignUp(long value, long alignment) => (value + alignment - 1) / alignment * alignment;

    private GgufTensorInfo Resolve(RawTensorInfo r, GgmlTypeDialect dialect, ulong extentEnd, long dataLength, string path)
    {
        if (!GgmlTypeTraits.TryFromFileId(r.TypeId, dialect, out var type))
            throw new InvalidDataException($"{path}: tensor '{r.Name}' has unknown type id {r.TypeId}");
        var traits = GgmlTypeTraits.Get(type);
        if (r.Offset % Alignment != 0)
            throw new InvalidDataException($"{path}: tensor '{r.Name}' offset {r.Offset} is not a multiple of the alignment {Alignment}");
        if (r.Offset > (ulong)dataLength)
            throw new InvalidDataException($"{path}: tensor '{r.Name}' starts at data offset {r.Offset}, past the end of the file (data section is {dataLength} bytes)");

        long size;
        try
        {
            size = GgmlTypeTraits.TensorByteSize(type, r.Shape) ?? (long)(extentEnd - r.Offset);
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new InvalidDataException($"{path}: tensor '{r.Name}' ({traits.Name}, shape [{string.Join(", ", r.Shape)}]): {e.Message}", e);
        }

        if (r.Offset + (ulong)size > (ulong)dataLength)
            throw new InvalidDataException($"{path}: tensor '{r.Name}' ({traits.Name}, {size} bytes at data offset {r.Offset}) runs past the end of the file (data section is {dataLength} bytes): the file is truncated or corrupt");
        return new GgufTensorInfo(r.Name, type, r.Shape, r.Offset, size);
    }

    /// <summary>
    /// bitnet.cpp reused ids 36–39 for I2_S/I8_S/TL1/TL2 while upstream gave them to other types. The sizes tell them
    /// apart (I2_S is n/4 + 32 bytes, upstream's are 18 or 17 bytes per 32 elements); when both fit, the architecture decides.
    /// </summary>
    private static (GgmlTypeDialect, string) DecideDialect(RawTensorInfo[] raw, string? arch, long dataLength)
    {
        var ambiguous = raw.Where(r => GgmlTypeTraits.IsAmbiguousId(r.TypeId)).ToArray();
        if (ambiguous.Length == 0)
            return (GgmlTypeDialect.BitNetCpp, "no tensor uses ids 36–39");

        var sorted = raw.OrderBy(r => r.Offset).ToArray();
        bool bitnetFits = FitsExtents(sorted, GgmlTypeDialect.BitNetCpp, dataLength);
        bool upstreamFits = FitsExtents(sorted, GgmlTypeDialect.Upstream, dataLength);
        bool bitnetArch = arch is not null && arch.StartsWith("bitnet", StringComparison.Ordinal);
        string ids = string.Join(", ", ambiguous.Select(r => r.TypeId).Distinct().Order());
        if (bitnetFits && !upstreamFits)
            return (GgmlTypeDialect.BitNetCpp, $"type ids {ids} read as bitnet.cpp's I2_S/I8_S/TL1/TL2: tensor sizes fit that layout and not upstream's");
        if (upstreamFits && !bitnetFits)
            return (GgmlTypeDialect.Upstream, $"type ids {ids} read as upstream llama.cpp's IQ4_NL_x_x/MXFP4: tensor sizes fit that layout and not bitnet.cpp's");
        string why = bitnetFits ? "tensor sizes fit both layouts" : "tensor sizes fit neither layout";
        return bitnetArch
            ? (GgmlTypeDialect.BitNetCpp, $"type ids {ids} read as bitnet.cpp's I2_S/I8_S/TL1/TL2: {why}, and the architecture is '{arch}'")
            : (GgmlTypeDialect.Upstream, $"type ids {ids} read as upstream llama.cpp's types: {why}, and the architecture is '{arch ?? "(none)"}'");
    }

    private static bool FitsExtents(RawTensorInfo[] sortedByOffset, GgmlTypeDialect dialect, long dataLength)
    {
        for (int k = 0; k < sortedByOffset.Length; k++)
        {
            var r = sortedByOffset[k];
            if (!GgmlTypeTraits.IsAmbiguousId(r.TypeId))
                continue;
            if (!GgmlTypeTraits.TryFromFileId(r.TypeId, dialect, out var type))
                return false;
            long? size;
            try
            {
                size = GgmlTypeTraits.TensorByteSize(type, r.Shape);
            }
            catch (Exception e) when (e is FormatException or OverflowException)
            {
                return false;
            }

            if (size is null)
                continue;
            ulong end = k + 1 < sortedByOffset.Length ? sortedByOffset[k + 1].Offset : (ulong)dataLength;
            if (r.Offset + (ulong)size.Value > end)
                return false;
            // Padding after a tensor is less than the alignment used by any writer we know (≤ 256 bytes here);
            // much more slack means this reading of the size is wrong.
            if (end - (r.Offset + (ulong)size.Value) >= 4096 && k + 1 < sortedByOffset.Length)
                return false;
        }

        return true;
    }
}
