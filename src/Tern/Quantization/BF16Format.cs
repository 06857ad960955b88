using System.Buffers.Binary;

namespace Tern.Quantization;

/// <summary>
/// GGML BF16: the upper 16 bits of an IEEE binary32, little-endian. Encoding follows ggml's reference
/// ggml_compute_fp32_to_bf16 exactly: round to nearest even on the dropped 16 bits; a NaN keeps its upper bits
/// and gets the quiet bit (0x40) set, so it never rounds into an infinity. Subnormals are kept (not flushed).
/// Written by hand rather than through a library conversion because that NaN rule decides bit-exact output.
/// Definition: https://github.com/ggml-org/llama.cpp/blob/master/ggml/src/ggml-impl.h (ggml_compute_fp32_to_bf16).
/// </summary>
public static class BF16Format
{
    public const int BytesPerElement = 2;

    public static long ByteSize(long elementCount) => checked(elementCount * BytesPerElement);

    public static ushort FromSingle(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if ((bits & 0x7fff_ffffu) > 0x7f80_0000u)
            return (ushort)((bits >> 16) | 64);
        return (ushort)((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
    }

    public static float ToSingle(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    public static void Encode(ReadOnlySpan<float> src, Span<byte> dst)
    {
        FormatGuard.RequireBytes("BF16", src.Length, ByteSize(src.Length), dst.Length, nameof(dst));
        for (int i = 0; i < src.Length; i++)
            BinaryPrimitives.WriteUInt16LittleEndian(dst[(i * 2)..], FromSingle(src[i]));
    }

    public static void Decode(ReadOnlySpan<byte> src, Span<float> dst)
    {
        FormatGuard.RequireBytes("BF16", dst.Length, ByteSize(dst.Length), src.Length, nameof(src));
        for (int i = 0; i < dst.Length; i++)
            dst[i] = ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(src[(i * 2)..]));
    }
}
