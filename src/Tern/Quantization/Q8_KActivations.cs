namespace Tern.Quantization;

/// <summary>
/// An activation vector quantized as ggml's Q8_K (the vec_dot_type of the k-quants; it is never stored in files):
/// blocks of 256 with an F32 scale and the sums of each 16 values, which let a kernel multiply Q6_K's offset levels
/// (0…63) as unsigned bytes and subtract 32·Σq afterwards. The arithmetic is ggml's quantize_row_q8_K_ref: the
/// signed extreme m maps to −127 (d = −m/127), values round half to even and are capped at 127.
/// Definition: https://github.com/ggml-org/llama.cpp/blob/master/ggml/src/ggml-quants.c (quantize_row_q8_K_ref).
/// </summary>
public static class Q8_KActivations
{
    public const int BlockSize = 256;
    public const int SumGroup = 16;

    /// <summary>x ≈ scales[i / 256]·values[i]; blockSums[g] = Σ values[16g … 16g+15].</summary>
    public static void Quantize(ReadOnlySpan<float> x, Span<sbyte> values, Span<float> scales, Span<short> blockSums)
    {
        FormatGuard.RequireWholeBlocks("Q8_K", x.Length, BlockSize, nameof(x));
        if (values.Length != x.Length || scales.Length != x.Length / BlockSize || blockSums.Length != x.Length / SumGroup)
            throw new ArgumentException($"{x.Length} activations need {x.Length} values, {x.Length / BlockSize} scales and {x.Length / SumGroup} sums");

        for (int b = 0; b < scales.Length; b++)
        {
            var block = x.Slice(b * BlockSize, BlockSize);
            var q = values.Slice(b * BlockSize, BlockSize);
            float max = 0, amax = 0;
            foreach (float v in block)
            {
                if (MathF.Abs(v) > amax)
                {
                    amax = MathF.Abs(v);
                    max = v;
                }
            }

            if (amax == 0)
            {
                scales[b] = 0;
                q.Clear();
            }
            else
            {
                float iscale = -127f / max;
                for (int j = 0; j < BlockSize; j++)
                    q[j] = (sbyte)Math.Min(127, Rounding.NearestInt(iscale * block[j]));
                scales[b] = 1 / iscale;
            }

            for (int g = 0; g < BlockSize / SumGroup; g++)
            {
                int sum = 0;
                foreach (sbyte v in q.Slice(g * SumGroup, SumGroup))
                    sum += v;
                blockSums[(b * BlockSize / SumGroup) + g] = (short)sum;
            }
        }
    }
}
