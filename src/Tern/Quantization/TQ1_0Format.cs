using System.Buffers.Binary;

namespace Tern.Quantization;

/// <summary>
/// llama.cpp's TQ1_0: blocks of 256 weights as { uint8 qs[48]; uint8 qh[4]; fp16 d } (54 bytes); x = d·t.
/// Trits (t+1 ∈ {0,1,2}) are packed base 3, five per byte with the first weight as the most significant trit,
/// and the byte stores ⌈v·256/243⌉ instead of v so that trit k can be read back as ((byte·3ᵏ mod 256)·3) >> 8.
/// Weight order: qs[m] (m &lt; 32) holds weights m + 32n (n = 0..4, weights 0..159); qs[32+m] (m &lt; 16) holds
/// 160 + m + 16n (weights 160..239); qh[j] holds 240 + j + 4n (n = 0..3) with a fifth trit of 0 at the bottom.
/// Float encoding is quantize_row_tq1_0_ref: d = max|x| per block, t = lroundf(x/d).
/// Definition: https://github.com/ggml-org/llama.cpp/blob/master/ggml/src/ggml-common.h (block_tq1_0) and
/// https://github.com/ggml-org/llama.cpp/blob/master/ggml/src/ggml-quants.c (quantize_row_tq1_0_ref, dequantize_row_tq1_0).
/// </summary>
public static class TQ1_0Format
{
    public const int BlockSize = TernaryBlockFormat<Layout>.BlockSize;
    public const int BytesPerBlock = 48 + 4 + 2;

    private const int QhOffset = 48;
    private const int DOffset = 52;

    private static ReadOnlySpan<byte> Pow3 => [1, 3, 9, 27, 81, 243];

    public static long ByteSize(long elementCount) => TernaryBlockFormat<Layout>.ByteSize(elementCount);

    public static void Encode(ReadOnlySpan<float> src, Span<byte> dst) => TernaryBlockFormat<Layout>.Encode(src, dst);

    public static void Decode(ReadOnlySpan<byte> src, Span<float> dst) => TernaryBlockFormat<Layout>.Decode(src, dst);

    /// <summary>Packs ternary values with one scale per 256-weight block (each stored as fp16).</summary>
    public static void EncodeTernary(ReadOnlySpan<sbyte> values, ReadOnlySpan<float> blockScales, Span<byte> dst) =>
        TernaryBlockFormat<Layout>.EncodeTernary(values, blockScales, dst);

    /// <summary>Packs ternary values with the same scale in every block (a block of zeros gets d = 0).</summary>
    public static void EncodeTernary(ReadOnlySpan<sbyte> values, float scale, Span<byte> dst) => TernaryBlockFormat<Layout>.EncodeTernary(values, scale, dst);

    public static void DecodeTernary(ReadOnlySpan<byte> src, Span<sbyte> values, Span<float> blockScales) =>
        TernaryBlockFormat<Layout>.DecodeTernary(src, values, blockScales);

    private sealed class Layout : ITernaryBlockLayout
    {
        public static string Name => "TQ1_0";

        public static int BytesPerBlock => TQ1_0Format.BytesPerBlock;

        public static void Pack(ReadOnlySpan<sbyte> t, Half d, Span<byte> block) => PackBlock(t, d, block);

        public static Half Unpack(ReadOnlySpan<byte> block, Span<sbyte> t) => UnpackBlock(block, t);
    }

    /// <summary>Packs five trits (first most significant) and scales the 0..242 value onto 0..255, rounding up.</summary>
    private static byte PackTrits(ReadOnlySpan<sbyte> t, int first, int stride, int count)
    {
        int v = 0;
        for (int n = 0; n < count; n++)
            v = (v * 3) + t[first + (n * stride)] + 1;
        for (int n = count; n < 5; n++)
            v *= 3;
        return (byte)(((v * 256) + 242) / 243);
    }

    private static sbyte TritAt(byte packed, int k) => (sbyte)(((byte)(packed * Pow3[k]) * 3 >> 8) - 1);

    private static void PackBlock(ReadOnlySpan<sbyte> t, Half d, Span<byte> block)
    {
        for (int m = 0; m < 32; m++)
            block[m] = PackTrits(t, m, 32, 5);
        for (int m = 0; m < 16; m++)
            block[32 + m] = PackTrits(t, 160 + m, 16, 5);
        for (int j = 0; j < 4; j++)
            block[QhOffset + j] = PackTrits(t, 240 + j, 4, 4);
        BinaryPrimitives.WriteHalfLittleEndian(block[DOffset..], d);
    }

    private static Half UnpackBlock(ReadOnlySpan<byte> block, Span<sbyte> t)
    {
        for (int m = 0; m < 32; m++)
        {
            for (int n = 0; n < 5; n++)
                t[m + (n * 32)] = TritAt(block[m], n);
        }

        for (int m = 0; m < 16; m++)
        {
            for (int n = 0; n < 5; n++)
                t[160 + m + (n * 16)] = TritAt(block[32 + m], n);
        }

        for (int j = 0; j < 4; j++)
        {
            for (int n = 0; n < 4; n++)
                t[240 + j + (n * 4)] = TritAt(block[QhOffset + j], n);
        }

        return BinaryPrimitives.ReadHalfLittleEndian(block[DOffset..]);
    }
}
