using System.Buffers.Binary;
using System.Text;

namespace Tern.Gguf;

/// <summary>
/// A bounds-checked little-endian reader over the mapped header bytes. Every read checks the remaining length so
/// that a truncated or lying file ends in an error that says where, never in an access violation or a huge allocation.
/// </summary>
internal unsafe ref struct GgufHeaderCursor
{
    /// <summary>Nested arrays deeper than this are treated as corrupt (real files nest at most once).</summary>
    public const int MaxArrayDepth = 8;

    /// <summary>A single string longer than this is treated as corrupt (chat templates are a few kB; 64 MiB is generous).</summary>
    public const long MaxStringBytes = 64L << 20;

    private readonly byte* _base;
    private readonly long _length;
    private readonly string _path;

    public GgufHeaderCursor(byte* @base, long length, string path)
    {
        _base = @base;
        _length = length;
        _path = path;
        Position = 0;
    }

    public long Position { get; private set; }

    public readonly long Remaining => _length - Position;

    public InvalidDataException Error(string what) => new($"{_path}: {what} (at byte {Position})");

    private ReadOnlySpan<byte> Take(long count, string what)
    {
        if (count < 0 || count > Remaining)
            throw Error($"file is truncated: {what} needs {count} bytes, {Remaining} remain");
        var span = new ReadOnlySpan<byte>(_base + Position, (int)count);
        Position += count;
        return span;
    }

    public byte ReadUInt8(string what) => Take(1, what)[0];
    public sbyte ReadInt8(string what) => (sbyte)Take(1, what)[0];
    public ushort ReadUInt16(string what) => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, what));
    public short ReadInt16(string what) => BinaryPrimitives.ReadInt16LittleEndian(Take(2, what));
    public uint ReadUInt32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, what));
    public int ReadInt32(string what) => BinaryPrimitives.ReadInt32LittleEndian(Take(4, what));
    public ulong ReadUInt64(string what) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, what));
    public long ReadInt64(string what) => BinaryPrimitives.ReadInt64LittleEndian(Take(8, what));
    public float ReadFloat32(string what) => BinaryPrimitives.ReadSingleLittleEndian(Take(4, what));
    public double ReadFloat64(string what) => BinaryPrimitives.ReadDoubleLittleEndian(Take(8, what));

    public bool ReadBool(string what)
    {
        byte b = ReadUInt8(what);
        return b switch
        {
            0 => false,
            1 => true,
            _ => throw Error($"{what}: bool holds {b}, not 0 or 1"),
        };
    }

    public string ReadString(string what)
    {
        ulong length = ReadUInt64($"{what} length");
        if (length > (ulong)Remaining)
            throw Error($"file is truncated or corrupt: {what} claims {length} bytes, {Remaining} remain");
        if (length > MaxStringBytes)
            throw Error($"{what} claims {length} bytes, more than the {MaxStringBytes}-byte limit for one string");
        var bytes = Take((long)length, what);
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw Error($"{what} is not valid UTF-8");
        }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Rejects an element count that cannot fit in what remains of the file, before anything is allocated.</summary>
    public int CheckCount(ulong count, long minBytesPerElement, string what)
    {
        if (count > int.MaxValue || count * (ulong)minBytesPerElement > (ulong)Remaining)
            throw Error($"file is truncated or corrupt: {what} claims {count} elements, more than the {Remaining} remaining bytes can hold");
        return (int)count;
    }

    public GgufValue ReadValue(GgufValueType type, string what, int depth = 0) => type switch
    {
        GgufValueType.UInt8 => GgufValue.FromUInt8(ReadUInt8(what)),
        GgufValueType.Int8 => GgufValue.FromInt8(ReadInt8(what)),
        GgufValueType.UInt16 => GgufValue.FromUInt16(ReadUInt16(what)),
        GgufValueType.Int16 => GgufValue.FromInt16(ReadInt16(what)),
        GgufValueType.UInt32 => GgufValue.FromUInt32(ReadUInt32(what)),
        GgufValueType.Int32 => GgufValue.FromInt32(ReadInt32(what)),
        GgufValueType.Float32 => GgufValue.FromFloat32(ReadFloat32(what)),
        GgufValueType.Bool => GgufValue.FromBool(ReadBool(what)),
        GgufValueType.String => GgufValue.FromString(ReadString(what)),
        GgufValueType.UInt64 => GgufValue.FromUInt64(ReadUInt64(what)),
        GgufValueType.Int64 => GgufValue.FromInt64(ReadInt64(what)),
        GgufValueType.Float64 => GgufValue.FromFloat64(ReadFloat64(what)),
        GgufValueType.Array => ReadArray(what, depth),
        _ => throw Error($"{what}: unknown value type {(uint)type}"),
    };

    private GgufValue ReadArray(string what, int depth)
    {
        if (depth >= MaxArrayDepth)
            throw Error($"{what}: arrays nested deeper than {MaxArrayDepth} levels");
        uint rawType = ReadUInt32($"{what} element type");
        if (rawType > (uint)GgufValueType.Float64)
            throw Error($"{what}: unknown array element type {rawType}");
        var elementType = (GgufValueType)rawType;
        ulong count = ReadUInt64($"{what} length");
        int n = CheckCount(count, MinEncodedSize(elementType), what);
        switch (elementType)
        {
            case GgufValueType.UInt8: return GgufValue.FromArray(Take(n, what).ToArray());
            case GgufValueType.Int8: return GgufValue.FromArray(ReadScalars<sbyte>(n, what));
            case GgufValueType.UInt16: return GgufValue.FromArray(ReadScalars<ushort>(n, what));
            case GgufValueType.Int16: return GgufValue.FromArray(ReadScalars<short>(n, what));
            case GgufValueType.UInt32: return GgufValue.FromArray(ReadScalars<uint>(n, what));
            case GgufValueType.Int32: return GgufValue.FromArray(ReadScalars<int>(n, what));
            case GgufValueType.Float32: return GgufValue.FromArray(ReadScalars<float>(n, what));
            case GgufValueType.UInt64: return GgufValue.FromArray(ReadScalars<ulong>(n, what));
            case GgufValueType.Int64: return GgufValue.FromArray(ReadScalars<long>(n, what));
            case GgufValueType.Float64: return GgufValue.FromArray(ReadScalars<double>(n, what));
            case GgufValueType.Bool:
            {
                var result = new bool[n];
                for (int i = 0; i < n; i++)
                    result[i] = ReadBool(what);
                return GgufValue.FromArray(result);
            }

            case GgufValueType.String:
            {
                var result = new string[n];
                for (int i = 0; i < n; i++)
                    result[i] = ReadString($"{what}[{i}]");
                return GgufValue.FromArray(result);
            }

            default:
            {
                var result = new GgufValue[n];
                for (int i = 0; i < n; i++)
                    result[i] = ReadArray($"{what}[{i}]", depth + 1);
                return GgufValue.FromNestedArray(result);
            }
        }
    }

    private T[] ReadScalars<T>(int n, string what)
        where T : unmanaged
    {
        var bytes = Take((long)n * sizeof(T), what);
        var result = new T[n];
        // GGUF is little-endian and so is every platform .NET runs Tern on; a big-endian host would need a swap here.
        bytes.CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(result.AsSpan()));
        return result;
    }

    /// <summary>The fewest bytes one element of this type occupies on disk (strings and arrays: their length field).</summary>
    public static long MinEncodedSize(GgufValueType type) => type switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        GgufValueType.String => 8,
        GgufValueType.Array => 12,
        _ => 8,
    };
}
