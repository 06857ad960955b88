using System.Buffers.Binary;

namespace Tern.Quantization;

/// <summary>
/// GGML Q8_0: blocks of 32 weights as { fp16 d; int8 qs[32] } (34 bytes); x = d·q.
/// Encoding is ggml's quantize_row_q8_0_ref: d = max|x|/127, q = roundf(x/d) with halves away from zero.
/// Definition: https://github.com/ggml-org/llama.cpp/blob/master/ggml/src/ggml-common.h (block_q8_0) and
/// https://github.com/ggml-org/llama.cpp/blob/master/ggml/src/ggml-quants.c (quantize_row_q8_0_ref, dequantize_row_q8_0).
/// </summary>
public static class Q8_0Format
{
    public const int BlockSize = 32;
    public const int BytesPerBlock = 2 + BlockSize;

    public static long ByteSize(long elementCount)
    {
        FormatGuard.RequireWholeBlocks("Q8_0", elementCount, BlockSize, nameof(elementCount));
        return checked(elementCount / BlockSize * BytesPerBlock);
    }

    public static void Encode(ReadOnlySpan<float> src, Span<byte> dst)
    {
        FormatGuard.RequireWholeBlocks("Q8_0", src.Length, BlockSize, nameof(src));
        FormatGuard.RequireBytes("Q8_0", src.Length, ByteSize(src.Length), dst.Length, nameof(dst));

        for (int b = 0; b < src.Length / BlockSize; b++)
        {
            var x = src.Slice(b * BlockSize, BlockSize);
            var block = dst.Slice(b * BytesPerBlock, BytesPerBlock);

            float amax = 0f;
            foreach (float v in x)
                amax = MathF.Max(amax, MathF.Abs(v));

            // ggml multiplies by the reciprocal instead of dividing; that changes the last bit, so do the same.
            float d = amax / 127f;
            float id = d != 0f ? 1f / d : 0f;
            BinaryPrimitives.WriteHalfLittleEndian(block, (Half)d);
            for (int j = 0; j < BlockSize; j++)
                block[2 + j] = (byte)(sbyte)Rounding.AwayFromZero(x[j] * id);
        }
    }

    public static void Decode(ReadOnlySpan<byte> src, Span<float> dst)
    {
        FormatGuard.RequireWholeBlocks("Q8_0", dst.Length, BlockSize, nameof(dst));
        FormatGuard.RequireBytes("Q8_0", dst.Length, ByteSize(dst.Length), src.Length, nameof(src));

        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            var block = src.Slice(b * BytesPerBlock, BytesPerBlock);
            float d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
            var y = dst.Slice(b * BlockSize, BlockSize);
            for (int j = 0; j < BlockSize; j++)
                y[j] = (sbyte)block[2 + j] * d;
        }
    }
}
