using System.Buffers.Binary;

namespace Tern.Quantization;

/// <summary>
/// llama.cpp's TQ2_0: blocks of 256 weights as { uint8 qs[64]; fp16 d } (66 bytes); x = d·t, t ∈ {−1, 0, +1}.
/// Codes are t+1 in 2 bits. Each half of qs (32 bytes) covers 128 weights: byte m holds weights m, m+32, m+64, m+96
/// of that half in bits 1-0, 3-2, 5-4, 7-6 (lowest bits first — the reverse of I2_S).
/// Float encoding is quantize_row_tq2_0_ref: d = max|x| per block, t = lroundf(x/d) (halves away from zero).
/// Definition: https://github.com/ggml-org/llama.cpp/blob/master/ggml/src/ggml-common.h (block_tq2_0) and
/// https://github.com/ggml-org/llama.cpp/blob/master/ggml/src/ggml-quants.c (quantize_row_tq2_0_ref, dequantize_row_tq2_0).
/// </summary>
public static class TQ2_0Format
{
    public const int BlockSize = TernaryBlockFormat<Layout>.BlockSize;
    public const int BytesPerBlock = (BlockSize / 4) + 2;

    private const int DOffset = BlockSize / 4;

    public static long ByteSize(long elementCount) => TernaryBlockFormat<Layout>.ByteSize(elementCount);

    public static void Encode(ReadOnlySpan<float> src, Span<byte> dst) => TernaryBlockFormat<Layout>.Encode(src, dst);

    public static void Decode(ReadOnlySpan<byte> src, Span<float> dst) => TernaryBlockFormat<Layout>.Decode(src, dst);

    /// <summary>Packs ternary values with one scale per 256-weight block (each stored as fp16).</summary>
    public static void EncodeTernary(ReadOnlySpan<sbyte> values, ReadOnlySpan<float> blockScales, Span<byte> dst) =>
        TernaryBlockFormat<Layout>.EncodeTernary(values, blockScales, dst);

    /// <summary>Packs ternary values with the same scale in every block (a block of zeros gets d = 0).</summary>
    public static void EncodeTernary(ReadOnlySpan<sbyte> values, float scale, Span<byte> dst) => TernaryBlockFormat<Layout>.EncodeTernary(values, scale, dst);

    public static void DecodeTernary(ReadOnlySpan<byte> src, Span<sbyte> values, Span<float> blockScales)
    {
        TernaryBlockFormat<Layout>.DecodeTernary(src, values, blockScales);

        // Code 11 has no ternary meaning (ggml would read it as +2·d); refuse it rather than pass on a non-ternary value.
        int bad = values.IndexOf((sbyte)2);
        if (bad >= 0)
            throw new InvalidDataException($"TQ2_0: block {bad / BlockSize} holds the unused code 3 for element {bad % BlockSize}; the data is not ternary.");
    }

    private sealed class Layout : ITernaryBlockLayout
    {
        public static string Name => "TQ2_0";

        public static int BytesPerBlock => TQ2_0Format.BytesPerBlock;

        public static void Pack(ReadOnlySpan<sbyte> t, Half d, Span<byte> block) => PackBlock(t, d, block);

        public static Half Unpack(ReadOnlySpan<byte> block, Span<sbyte> t) => UnpackBlock(block, t);
    }

    private static void PackBlock(ReadOnlySpan<sbyte> t, Half d, Span<byte> block)
    {
        for (int half = 0; half < 2; half++)
        {
            var th = t.Slice(half * 128, 128);
            var qs = block.Slice(half * 32, 32);
            for (int m = 0; m < 32; m++)
            {
                int q = 0;
                for (int n = 0; n < 4; n++)
                    q |= (th[m + (n * 32)] + 1) << (2 * n);
                qs[m] = (byte)q;
            }
        }

        BinaryPrimitives.WriteHalfLittleEndian(block[DOffset..], d);
    }

    /// <summary>Unpacks code−1 per weight (so the unused code 3 comes out as 2, as ggml's dequantizer reads it).</summary>
    private static Half UnpackBlock(ReadOnlySpan<byte> block, Span<sbyte> t)
    {
        for (int half = 0; half < 2; half++)
        {
            var qs = block.Slice(half * 32, 32);
            var th = t.Slice(half * 128, 128);
            for (int n = 0; n < 4; n++)
            {
                for (int m = 0; m < 32; m++)
                    th[m + (n * 32)] = (sbyte)(((qs[m] >> (2 * n)) & 3) - 1);
            }
        }

        return BinaryPrimitives.ReadHalfLittleEndian(block[DOffset..]);
    }
}
