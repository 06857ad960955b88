using System.Buffers.Binary;

namespace Tern.Quantization;

/// <summary>
/// GGML Q4_0: blocks of 32 weights as { fp16 d; uint8 qs[16] } (18 bytes); byte j holds element j in its low
/// nibble and element j+16 in its high nibble; x = d·(q − 8).
/// Encoding is ggml's quantize_row_q4_0_ref: d = m/−8 where m is the element of largest magnitude (sign kept),
/// q = min(15, trunc(x/d + 8.5)).
/// Definition: https://github.com/ggml-org/llama.cpp/blob/master/ggml/src/ggml-common.h (block_q4_0) and
/// https://github.com/ggml-org/llama.cpp/blob/master/ggml/src/ggml-quants.c (quantize_row_q4_0_ref, dequantize_row_q4_0).
/// </summary>
public static class Q4_0Format
{
    public const int BlockSize = 32;
    public const int BytesPerBlock = 2 + BlockSize / 2;

    public static long ByteSize(long elementCount)
    {
        FormatGuard.RequireWholeBlocks("Q4_0", elementCount, BlockSize, nameof(elementCount));
        return checked(elementCount / BlockSize * BytesPerBlock);
    }

    public static void Encode(ReadOnlySpan<float> src, Span<byte> dst)
    {
        FormatGuard.RequireWholeBlocks("Q4_0", src.Length, BlockSize, nameof(src));
        FormatGuard.RequireBytes("Q4_0", src.Length, ByteSize(src.Length), dst.Length, nameof(dst));

        for (int b = 0; b < src.Length / BlockSize; b++)
        {
            var x = src.Slice(b * BlockSize, BlockSize);
            var block = dst.Slice(b * BytesPerBlock, BytesPerBlock);

            // The first element of largest magnitude wins ties (strict '<'), as in ggml.
            float amax = 0f, max = 0f;
            foreach (float v in x)
            {
                if (amax < MathF.Abs(v))
                {
                    amax = MathF.Abs(v);
                    max = v;
                }
            }

            float d = max / -8f;
            float id = d != 0f ? 1f / d : 0f;
            BinaryPrimitives.WriteHalfLittleEndian(block, (Half)d);
            for (int j = 0; j < BlockSize / 2; j++)
            {
                // C's (int8_t) cast truncates toward zero; the +8.5 turns that into rounding to nearest.
                int lo = Math.Min(15, (int)((x[j] * id) + 8.5f));
                int hi = Math.Min(15, (int)((x[j + (BlockSize / 2)] * id) + 8.5f));
                block[2 + j] = (byte)(lo | (hi << 4));
            }
        }
    }

    public static void Decode(ReadOnlySpan<byte> src, Span<float> dst)
    {
        FormatGuard.RequireWholeBlocks("Q4_0", dst.Length, BlockSize, nameof(dst));
        FormatGuard.RequireBytes("Q4_0", dst.Length, ByteSize(dst.Length), src.Length, nameof(src));

        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            var block = src.Slice(b * BytesPerBlock, BytesPerBlock);
            float d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
            var y = dst.Slice(b * BlockSize, BlockSize);
            for (int j = 0; j < BlockSize / 2; j++)
            {
                y[j] = ((block[2 + j] & 0x0F) - 8) * d;
                y[j + (BlockSize / 2)] = ((block[2 + j] >> 4) - 8) * d;
            }
        }
    }
}
