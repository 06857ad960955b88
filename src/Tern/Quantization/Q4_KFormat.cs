using System.Buffers.Binary;

namespace Tern.Quantization;

/// <summary>
/// GGML Q4_K: super-blocks of 256 weights as { fp16 d; fp16 dmin; uint8 scales[12]; uint8 qs[128] } (144 bytes).
/// Eight sub-blocks of 32 each have a 6-bit scale and a 6-bit min (packed into scales[12]); x = d·sc·q − dmin·m.
/// qs holds 64 weights per 32 bytes: low nibbles are the first 32, high nibbles the next 32.
/// Encoding is ggml's quantize_row_q4_K_ref (make_qkx2_quants search per sub-block), which llama-quantize uses
/// when no importance matrix is given.
/// Definition: https://github.com/ggml-org/llama.cpp/blob/master/ggml/src/ggml-common.h (block_q4_K) and
/// https://github.com/ggml-org/llama.cpp/blob/master/ggml/src/ggml-quants.c (quantize_row_q4_K_ref, dequantize_row_q4_K,
/// get_scale_min_k4, make_qkx2_quants).
/// </summary>
public static class Q4_KFormat
{
    public const int BlockSize = 256;
    public const int BytesPerBlock = 2 + 2 + 12 + (BlockSize / 2);

    private const int ScalesOffset = 4;
    private const int QsOffset = 16;

    public static long ByteSize(long elementCount)
    {
        FormatGuard.RequireWholeBlocks("Q4_K", elementCount, BlockSize, nameof(elementCount));
        return checked(elementCount / BlockSize * BytesPerBlock);
    }

    /// <summary>Unpacks the 6-bit scale and min of sub-block j (0..7) from the 12 packed bytes.</summary>
    public static (byte Scale, byte Min) GetScaleMin(int j, ReadOnlySpan<byte> scales)
    {
        if (j < 4)
            return ((byte)(scales[j] & 63), (byte)(scales[j + 4] & 63));
        return ((byte)((scales[j + 4] & 0xF) | ((scales[j - 4] >> 6) << 4)),
                (byte)((scales[j + 4] >> 4) | ((scales[j] >> 6) << 4)));
    }

    public static void Decode(ReadOnlySpan<byte> src, Span<float> dst)
    {
        FormatGuard.RequireWholeBlocks("Q4_K", dst.Length, BlockSize, nameof(dst));
        FormatGuard.RequireBytes("Q4_K", dst.Length, ByteSize(dst.Length), src.Length, nameof(src));

        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            var block = src.Slice(b * BytesPerBlock, BytesPerBlock);
            float d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
            float dmin = (float)BinaryPrimitives.ReadHalfLittleEndian(block[2..]);
            var scales = block.Slice(ScalesOffset, 12);
            var y = dst.Slice(b * BlockSize, BlockSize);

            for (int chunk = 0; chunk < 4; chunk++)
            {
                var q = block.Slice(QsOffset + (chunk * 32), 32);
                var (sc1, m1) = GetScaleMin(2 * chunk, scales);
                var (sc2, m2) = GetScaleMin((2 * chunk) + 1, scales);
                float d1 = d * sc1, min1 = dmin * m1;
                float d2 = d * sc2, min2 = dmin * m2;
                var y1 = y.Slice(chunk * 64, 32);
                var y2 = y.Slice((chunk * 64) + 32, 32);
                for (int l = 0; l < 32; l++)
                {
                    y1[l] = (d1 * (q[l] & 0xF)) - min1;
                    y2[l] = (d2 * (q[l] >> 4)) - min2;
                }
            }
        }
    }

    public static void Encode(ReadOnlySpan<float> src, Span<byte> dst)
    {
        FormatGuard.RequireWholeBlocks("Q4_K", src.Length, BlockSize, nameof(src));
        FormatGuard.RequireBytes("Q4_K", src.Length, ByteSize(src.Length), dst.Length, nameof(dst));

        Span<byte> levels = stackalloc byte[BlockSize];
        Span<byte> aux = stackalloc byte[32];
        Span<float> weights = stackalloc float[32];
        Span<float> mins = stackalloc float[8];
        Span<float> subScales = stackalloc float[8];

        for (int b = 0; b < src.Length / BlockSize; b++)
        {
            var x = src.Slice(b * BlockSize, BlockSize);
            var block = dst.Slice(b * BytesPerBlock, BytesPerBlock);
            block.Clear();

            float maxScale = 0f, maxMin = 0f;
            for (int j = 0; j < 8; j++)
            {
                var xs = x.Slice(32 * j, 32);
                float sumX2 = 0f;
                for (int l = 0; l < 32; l++)
                    sumX2 += xs[l] * xs[l];
                float avX = MathF.Sqrt(sumX2 / 32f);
                for (int l = 0; l < 32; l++)
                    weights[l] = avX + MathF.Abs(xs[l]);
                subScales[j] = KQuants.MakeQkx2Quants(32, 15, xs, weights, levels.Slice(32 * j, 32), out mins[j], aux, -1f, 0.1f, 20, false);
                if (subScales[j] > maxScale)
                    maxScale = subScales[j];
                if (mins[j] > maxMin)
                    maxMin = mins[j];
            }

            float invScale = maxScale > 0 ? 63f / maxScale : 0f;
            float invMin = maxMin > 0 ? 63f / maxMin : 0f;
            var scales = block.Slice(ScalesOffset, 12);
            for (int j = 0; j < 8; j++)
            {
                // ggml stores nearest_int into a uint8_t before the MIN, so the value wraps modulo 256 first.
                byte ls = Math.Min((byte)63, (byte)Rounding.NearestInt(invScale * subScales[j]));
                byte lm = Math.Min((byte)63, (byte)Rounding.NearestInt(invMin * mins[j]));
                if (j < 4)
                {
                    scales[j] = ls;
                    scales[j + 4] = lm;
                }
                else
                {
                    scales[j + 4] = (byte)((ls & 0xF) | ((lm & 0xF) << 4));
                    scales[j - 4] |= (byte)((ls >> 4) << 6);
                    scales[j] |= (byte)((lm >> 4) << 6);
                }
            }

            var dHalf = (Half)(maxScale / 63f);
            var dminHalf = (Half)(maxMin / 63f);
            BinaryPrimitives.WriteHalfLittleEndian(block, dHalf);
            BinaryPrimitives.WriteHalfLittleEndian(block[2..], dminHalf);

            // Requantize against the rounded scales actually stored, so decode matches what the search chose.
            for (int j = 0; j < 8; j++)
            {
                var (sc, m) = GetScaleMin(j, scales);
                float d = (float)dHalf * sc;
                if (d == 0f)
                    continue;
                float dm = (float)dminHalf * m;
                for (int ii = 0; ii < 32; ii++)
                {
                    int l = Rounding.NearestInt((x[(32 * j) + ii] + dm) / d);
                    levels[(32 * j) + ii] = (byte)Math.Clamp(l, 0, 15);
                }
            }

            var qs = block.Slice(QsOffset, BlockSize / 2);
            for (int chunk = 0; chunk < 4; chunk++)
            {
                for (int l = 0; l < 32; l++)
                    qs[(chunk * 32) + l] = (byte)(levels[(chunk * 64) + l] | (levels[(chunk * 64) + l + 32] << 4));
            }
        }
    }
}
