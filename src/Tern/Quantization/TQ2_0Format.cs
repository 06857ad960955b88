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
    public const int BlockSize = 256;
    public const int BytesPerBlock = (BlockSize / 4) + 2;

    private const int DOffset = BlockSize / 4;

    public static long ByteSize(long elementCount)
    {
        FormatGuard.RequireWholeBlocks("TQ2_0", elementCount, BlockSize, nameof(elementCount));
        return checked(elementCount / BlockSize * BytesPerBlock);
    }

    public static void Encode(ReadOnlySpan<float> src, Span<byte> dst)
    {
        FormatGuard.RequireWholeBlocks("TQ2_0", src.Length, BlockSize, nameof(src));
        FormatGuard.RequireBytes("TQ2_0", src.Length, ByteSize(src.Length), dst.Length, nameof(dst));

        Span<sbyte> t = stackalloc sbyte[BlockSize];
        for (int b = 0; b < src.Length / BlockSize; b++)
        {
            float d = TernaryBlock.QuantizeAbsmax(src.Slice(b * BlockSize, BlockSize), t);
            PackBlock(t, (Half)d, dst.Slice(b * BytesPerBlock, BytesPerBlock));
        }
    }

    public static void Decode(ReadOnlySpan<byte> src, Span<float> dst)
    {
        FormatGuard.RequireWholeBlocks("TQ2_0", dst.Length, BlockSize, nameof(dst));
        FormatGuard.RequireBytes("TQ2_0", dst.Length, ByteSize(dst.Length), src.Length, nameof(src));

        Span<sbyte> t = stackalloc sbyte[BlockSize];
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            float d = (float)UnpackBlock(src.Slice(b * BytesPerBlock, BytesPerBlock), t);
            var y = dst.Slice(b * BlockSize, BlockSize);
            for (int i = 0; i < BlockSize; i++)
                y[i] = t[i] * d;
        }
    }

    /// <summary>Packs ternary values with one scale per 256-weight block (each stored as fp16).</summary>
    public static void EncodeTernary(ReadOnlySpan<sbyte> values, ReadOnlySpan<float> blockScales, Span<byte> dst)
    {
        FormatGuard.RequireWholeBlocks("TQ2_0", values.Length, BlockSize, nameof(values));
        FormatGuard.RequireLength("TQ2_0", "block scales", values.Length / BlockSize, blockScales.Length, nameof(blockScales));
        FormatGuard.RequireBytes("TQ2_0", values.Length, ByteSize(values.Length), dst.Length, nameof(dst));
        FormatGuard.RequireTernary("TQ2_0", values, nameof(values));

        for (int b = 0; b < blockScales.Length; b++)
            PackBlock(values.Slice(b * BlockSize, BlockSize), (Half)blockScales[b], dst.Slice(b * BytesPerBlock, BytesPerBlock));
    }

    /// <summary>Packs ternary values with the same scale in every block.</summary>
    public static void EncodeTernary(ReadOnlySpan<sbyte> values, float scale, Span<byte> dst)
    {
        FormatGuard.RequireWholeBlocks("TQ2_0", values.Length, BlockSize, nameof(values));
        FormatGuard.RequireBytes("TQ2_0", values.Length, ByteSize(values.Length), dst.Length, nameof(dst));
        FormatGuard.RequireTernary("TQ2_0", values, nameof(values));

        // A block of zeros gets d = 0, as llama.cpp's quantizer writes it (d = max|x|), so files match byte for byte.
        var d = (Half)scale;
        for (int b = 0; b < values.Length / BlockSize; b++)
        {
            var block = values.Slice(b * BlockSize, BlockSize);
            PackBlock(block, block.ContainsAnyExcept((sbyte)0) ? d : Half.Zero, dst.Slice(b * BytesPerBlock, BytesPerBlock));
        }
    }

    public static void DecodeTernary(ReadOnlySpan<byte> src, Span<sbyte> values, Span<float> blockScales)
    {
        FormatGuard.RequireWholeBlocks("TQ2_0", values.Length, BlockSize, nameof(values));
        FormatGuard.RequireLength("TQ2_0", "block scales", values.Length / BlockSize, blockScales.Length, nameof(blockScales));
        FormatGuard.RequireBytes("TQ2_0", values.Length, ByteSize(values.Length), src.Length, nameof(src));

        for (int b = 0; b < blockScales.Length; b++)
        {
            var t = values.Slice(b * BlockSize, BlockSize);
            blockScales[b] = (float)UnpackBlock(src.Slice(b * BytesPerBlock, BytesPerBlock), t);

            // Code 11 has no ternary meaning (ggml would read it as +2·d); refuse it rather than pass on a non-ternary value.
            int bad = t.IndexOf((sbyte)2);
            if (bad >= 0)
                throw new InvalidDataException($"TQ2_0: block {b} holds the unused code 3 for element {bad}; the data is not ternary.");
        }
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
