using System.Buffers.Binary;

namespace Tern.Conversion.Tokenizers;

/// <summary>
/// Just enough of the protobuf wire format to read a SentencePiece ModelProto: varints, fixed32 and
/// length-delimited fields, with everything else skipped. Errors carry the file name and the byte offset,
/// because a truncated .model otherwise surfaces as an index exception deep inside.
/// </summary>
internal ref struct ProtobufReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly string _file;
    private readonly int _base;
    private int _pos;

    public ProtobufReader(ReadOnlySpan<byte> data, string file, int baseOffset = 0)
    {
        _data = data;
        _file = file;
        _base = baseOffset;
    }

    public readonly bool End => _pos >= _data.Length;

    public readonly int Offset => _base + _pos;

    /// <summary>Reads a field key; returns the field number and its wire type.</summary>
    public (int Field, int WireType) ReadKey()
    {
        ulong key = ReadVarint();
        int field = (int)(key >> 3);
        if (field == 0)
            throw Error("field number 0");
        return (field, (int)(key & 7));
    }

    public ulong ReadVarint()
    {
        ulong result = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (_pos >= _data.Length)
                throw Error("truncated varint");
            byte b = _data[_pos++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
                return result;
        }

        throw Error("varint longer than 10 bytes");
    }

    /// <summary>An int32 field: negative values are sign-extended to ten bytes on the wire, so truncate.</summary>
    public int ReadInt32() => unchecked((int)ReadVarint());

    public bool ReadBool() => ReadVarint() != 0;

    public float ReadFixed32Single()
    {
        if (_data.Length - _pos < 4)
            throw Error("truncated fixed32");
        float v = BinaryPrimitives.ReadSingleLittleEndian(_data.Slice(_pos, 4));
        _pos += 4;
        return v;
    }

    /// <summary>The payload of a length-delimited field, with the absolute offset where it starts.</summary>
    public ReadOnlySpan<byte> ReadBytes(out int payloadOffset)
    {
        ulong length = ReadVarint();
        if (length > (ulong)(_data.Length - _pos))
            throw Error($"length-delimited field of {length} bytes runs past the end");
        payloadOffset = Offset;
        var span = _data.Slice(_pos, (int)length);
        _pos += (int)length;
        return span;
    }

    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case 0:
                ReadVarint();
                break;
            case 1:
                Advance(8);
                break;
            case 2:
                ReadBytes(out _);
                break;
            case 5:
                Advance(4);
                break;
            default:
                throw Error($"unsupported wire type {wireType}");
        }
    }

    /// <summary>Checks the wire type a known field must have, so a mismatched file is named as such.</summary>
    public readonly void Expect(int field, int wireType, int expected)
    {
        if (wireType != expected)
            throw Error($"field {field} has wire type {wireType}, expected {expected}");
    }

    private void Advance(int n)
    {
        if (_data.Length - _pos < n)
            throw Error("truncated field");
        _pos += n;
    }

    public readonly InvalidDataException Error(string what) =>
        new($"{_file}: not a valid protobuf message at byte {Offset}: {what}");
}
