namespace Tern.Quantization;

/// <summary>
/// An activation vector quantized as ggml's Q8_0 (llama.cpp's vec_dot_type for Q8_0 weights), kept as separate
/// int8 values and per-block scales for the kernels rather than as 34-byte blocks. The arithmetic is
/// <see cref="Q8_0Format.Encode"/>'s, the scale included: it is rounded to fp16 as the block would store it, so a
/// product equals llama.cpp's on the same input.
/// </summary>
public static class Q8_0Activations
{
    public const int BlockSize = Q8_0Format.BlockSize;

    /// <summary>x ≈ scales[i / 32]·values[i]; values lie in [−127, 127].</summary>
    public static void Quantize(ReadOnlySpan<float> x, Span<sbyte> values, Span<float> scales)
    {
        FormatGuard.RequireWholeBlocks("Q8_0", x.Length, BlockSize, nameof(x));
        if (values.Length != x.Length || scales.Length != x.Length / BlockSize)
            throw new ArgumentException($"{x.Length} activations need {x.Length} values and {x.Length / BlockSize} scales");

        for (int b = 0; b < scales.Length; b++)
        {
            var block = x.Slice(b * BlockSize, BlockSize);
            float amax = 0f;
            foreach (float v in block)
                amax = MathF.Max(amax, MathF.Abs(v));

            float d = amax / 127f;
            float id = d != 0f ? 1f / d : 0f;
            scales[b] = (float)(Half)d;
            var q = values.Slice(b * BlockSize, BlockSize);
            for (int j = 0; j < BlockSize; j++)
                q[j] = (sbyte)Rounding.AwayFromZero(block[j] * id);
        }
    }
}
