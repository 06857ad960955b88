using System.Buffers.Binary;
using System.Text;
using Tern.Gguf;

namespace Tern.Tests.Tokenizers;

/// <summary>
/// TEMPORARY, test-only: reads the key/value metadata of a little-endian GGUF v3 file so that tokenizer tests can
/// compare against a file llama.cpp wrote. Replace with the real Tern.Gguf reader once it lands; nothing outside
/// this folder may use it.
/// </summary>
internal static class TemporaryGgufMetadataReader
{
    public static GgufMetadata Read(string path)
    {
        byte[] data = File.ReadAllBytes(path);
        int pos = 0;
        if (Encoding.ASCII.GetString(data, 0, 4) != "GGUF")
            throw new InvalidDataException($"{path}: not GGUF");
        pos = 4;
        uint version = U32();
        if (version != 3)
            throw new InvalidDataException($"{path}: GGUF version {version}, this test reader knows only 3");
        U64(); // tensor count
        ulong kvCount = U64();
        var metadata = new GgufMetadata();
        for (ulong i = 0; i < kvCount; i++)
        {
            string key = Str();
            var type = (GgufValueType)U32();
            metadata.Add(key, Value(type));
        }

        return metadata;

        GgufValue Value(GgufValueType type) => type switch
        {
            GgufValueType.UInt8 => GgufValue.FromUInt8(data[pos++]),
            GgufValueType.Int8 => GgufValue.FromInt8((sbyte)data[pos++]),
            GgufValueType.UInt16 => GgufValue.FromUInt16(BinaryPrimitives.ReadUInt16LittleEndian(Take(2))),
            GgufValueType.Int16 => GgufValue.FromInt16(BinaryPrimitives.ReadInt16LittleEndian(Take(2))),
            GgufValueType.UInt32 => GgufValue.FromUInt32(U32()),
            GgufValueType.Int32 => GgufValue.FromInt32(BinaryPrimitives.ReadInt32LittleEndian(Take(4))),
            GgufValueType.Float32 => GgufValue.FromFloat32(BinaryPrimitives.ReadSingleLittleEndian(Take(4))),
            GgufValueType.Bool => GgufValue.FromBool(data[pos++] != 0),
            GgufValueType.String => GgufValue.FromString(Str()),
            GgufValueType.UInt64 => GgufValue.FromUInt64(U64()),
            GgufValueType.Int64 => GgufValue.FromInt64(BinaryPrimitives.ReadInt64LittleEndian(Take(8))),
            GgufValueType.Float64 => GgufValue.FromFloat64(BinaryPrimitives.ReadDoubleLittleEndian(Take(8))),
            GgufValueType.Array => Array(),
            _ => throw new InvalidDataException($"{path}: value type {type}"),
        };

        GgufValue Array()
        {
            var et = (GgufValueType)U32();
            int n = checked((int)U64());
            return et switch
            {
                GgufValueType.String => GgufValue.FromArray(Fill(n, _ => Str())),
                GgufValueType.Float32 => GgufValue.FromArray(Fill(n, _ => BinaryPrimitives.ReadSingleLittleEndian(Take(4)))),
                GgufValueType.Int32 => GgufValue.FromArray(Fill(n, _ => BinaryPrimitives.ReadInt32LittleEndian(Take(4)))),
                GgufValueType.UInt32 => GgufValue.FromArray(Fill(n, _ => U32())),
                GgufValueType.Bool => GgufValue.FromArray(Fill(n, _ => data[pos++] != 0)),
                _ => throw new InvalidDataException($"{path}: arrays of {et} are not needed by the tokenizer tests"),
            };
        }

        T[] Fill<T>(int n, Func<int, T> read)
        {
            var a = new T[n];
            for (int i = 0; i < n; i++)
                a[i] = read(i);
            return a;
        }

        string Str()
        {
            int n = checked((int)U64());
            string s = Encoding.UTF8.GetString(data, pos, n);
            pos += n;
            return s;
        }

        uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
        ulong U64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

        ReadOnlySpan<byte> Take(int n)
        {
            var s = data.AsSpan(pos, n);
            pos += n;
            return s;
        }
    }
}
