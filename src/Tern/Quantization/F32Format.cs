using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Tern.Quantization;

/// <summary>
/// GGML F32: IEEE binary32, little-endian, no blocks.
/// Definition: https://github.com/ggml-org/llama.cpp/blob/master/ggml/src/ggml.c (type_traits[GGML_TYPE_F32]).
/// </summary>
public static class F32Format
{
    public const int BytesPerElement = 4;

    public static long ByteSize(long elementCount) => checked(elementCount * BytesPerElement);

    public static void Encode(ReadOnlySpan<float> src, Span<byte> dst)
    {
        FormatGuard.RequireBytes("F32", src.Length, ByteSize(src.Length), dst.Length, nameof(dst));
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.AsBytes(src).CopyTo(dst);
            return;
        }

        for (int i = 0; i < src.Length; i++)
            BinaryPrimitives.WriteSingleLittleEndian(dst[(i * 4)..], src[i]);
    }

    public static void Decode(ReadOnlySpan<byte> src, Span<float> dst)
    {
        FormatGuard.RequireBytes("F32", dst.Length, ByteSize(dst.Length), src.Length, nameof(src));
        if (BitConverter.IsLittleEndian)
        {
            src.CopyTo(MemoryMarshal.AsBytes(dst));
            return;
        }

        for (int i = 0; i < dst.Length; i++)
            dst[i] = BinaryPrimitives.ReadSingleLittleEndian(src[(i * 4)..]);
    }
}
