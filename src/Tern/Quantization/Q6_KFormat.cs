using System.Buffers.Binary;

namespace Tern.Quantization;

/// <summary>
/// GGML Q6_K: super-blocks of 256 weights as { uint8 ql[128]; uint8 qh[64]; int8 scales[16]; fp16 d } (210 bytes).
/// Each weight is a 6-bit level q (low 4 bits in ql, high 2 bits in qh), sixteen 16-weight sub-blocks have a signed
/// 8-bit scale; x = d·scale·(q − 32). Per 128 weights: ql[l] holds weights l (low nibble) and l+64 (high nibble),
/// ql[l+32] holds l+32 and l+96; qh[l] holds the high bits of l, l+32, l+64, l+96 at bits 0-1, 2-3, 4-5, 6-7.
/// Encoding is ggml's quantize_row_q6_K_ref (make_qx_quants per sub-block, rmse_type 1).
/// Definition: https://github.com/ggml-org/llama.cpp/blob/master/ggml/src/ggml-common.h (block_q6_K) and
/// https://github.com/ggml-org/llama.cpp/blob/master/ggml/src/ggml-quants.c (quantize_row_q6_K_ref, dequantize_row_q6_K).
/// </summary>
public static class Q6_KFormat
{
    public const int BlockSize = 256;
    public const int BytesPerBlock = (BlockSize / 2) + (BlockSize / 4) + (BlockSize / 16) + 2;

    private const int QhOffset = BlockSize / 2;
    private const int ScalesOffset = QhOffset + (BlockSize / 4);
    private const int DOffset = ScalesOffset + (BlockSize / 16);

    public static long ByteSize(long elementCount)
    {
        FormatGuard.RequireWholeBlocks("Q6_K", elementCount, BlockSize, nameof(elementCount));
        return checked(elementCount / BlockSize * BytesPerBlock);
    }

    public static void Decode(ReadOnlySpan<byte> src, Span<float> dst)
    {
        FormatGuard.RequireWholeBlocks("Q6_K", dst.Length, BlockSize, nameof(dst));
        FormatGuard.RequireBytes("Q6_K", dst.Length, ByteSize(dst.Length), src.Length, nameof(src));

        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            var block = src.Slice(b * BytesPerBlock, BytesPerBlock);
            float d = (float)BinaryPrimitives.ReadHalfLittleEndian(block[DOffset..]);
            var y = dst.Slice(b * BlockSize, BlockSize);

            for (int half = 0; half < 2; half++)
            {
                var ql = block.Slice(half * 64, 64);
                var qh = block.Slice(QhOffset + (half * 32), 32);
                var sc = block.Slice(ScalesOffset + (half * 8), 8);
                var yh = y.Slice(half * 128, 128);
                for (int l = 0; l < 32; l++)
                {
                    int s = l / 16;
                    int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                    int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                    int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                    int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                    yh[l] = d * (sbyte)sc[s] * q1;
                    yh[l + 32] = d * (sbyte)sc[s + 2] * q2;
                    yh[l + 64] = d * (sbyte)sc[s + 4] * q3;
                    yh[l + 96] = d * (sbyte)sc[s + 6] * q4;
                }
            }
        }
    }

    public static void Encode(ReadOnlySpan<float> src, Span<byte> dst)
    {
        FormatGuard.RequireWholeBlocks("Q6_K", src.Length, BlockSize, nameof(src));
        FormatGuard.RequireBytes("Q6_K", src.Length, ByteSize(src.Length), dst.Length, nameof(dst));

        Span<sbyte> levels = stackalloc sbyte[BlockSize];
        Span<float> subScales = stackalloc float[16];

        for (int b = 0; b < src.Length / BlockSize; b++)
        {
            var x = src.Slice(b * BlockSize, BlockSize);
            var block = dst.Slice(b * BytesPerBlock, BytesPerBlock);
            block.Clear();

            float maxScale = 0, maxAbsScale = 0;
            for (int s = 0; s < 16; s++)
            {
                float scale = KQuants.MakeQxQuants(16, 32, x.Slice(16 * s, 16), levels.Slice(16 * s, 16));
                subScales[s] = scale;
                if (MathF.Abs(scale) > maxAbsScale)
                {
                    maxAbsScale = MathF.Abs(scale);
                    maxScale = scale;
                }
            }

            if (maxAbsScale < KQuants.GroupMaxEps)
                continue; // an all-zero block: every byte zero, d = +0

            float iscale = -128f / maxScale;
            var dHalf = (Half)(1 / iscale);
            BinaryPrimitives.WriteHalfLittleEndian(block[DOffset..], dHalf);
            var scales = block.Slice(ScalesOffset, 16);
            for (int s = 0; s < 16; s++)
                scales[s] = (byte)(sbyte)Math.Min(127, Rounding.NearestInt(iscale * subScales[s]));

            for (int s = 0; s < 16; s++)
            {
                float d = (float)dHalf * (sbyte)scales[s];
                if (d == 0f)
                    continue;
                for (int ii = 0; ii < 16; ii++)
                {
                    int l = Rounding.NearestInt(x[(16 * s) + ii] / d);
                    levels[(16 * s) + ii] = (sbyte)(Math.Clamp(l, -32, 31) + 32);
                }
            }

            for (int half = 0; half < 2; half++)
            {
                var ql = block.Slice(half * 64, 64);
                var qh = block.Slice(QhOffset + (half * 32), 32);
                var lv = levels.Slice(half * 128, 128);
                for (int l = 0; l < 32; l++)
                {
                    int q1 = lv[l], q2 = lv[l + 32], q3 = lv[l + 64], q4 = lv[l + 96];
                    ql[l] = (byte)((q1 & 0xF) | ((q3 & 0xF) << 4));
                    ql[l + 32] = (byte)((q2 & 0xF) | ((q4 & 0xF) << 4));
                    qh[l] = (byte)((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
                }
            }
        }
    }
}
