using Tern.Formats;

namespace Tern.Tests.Conversion;

/// <summary>
/// The expectations the conversion tests compare against, computed here from the definitions (BitNet's absmean,
/// transformers' pack_weights, llama.cpp's permute and rope_freqs), not by calling the converter's own code.
/// </summary>
internal static class Expected
{
    /// <summary>float32 → bfloat16 → float32 with round to nearest even (what torch's .to(bfloat16) does).</summary>
    public static float Bf16(float x)
    {
        uint bits = BitConverter.SingleToUInt32Bits(x);
        bits += 0x7FFFu + ((bits >> 16) & 1);
        return BitConverter.UInt32BitsToSingle(bits & 0xFFFF0000u);
    }

    public static float F16(float x) => (float)(Half)x;

    public static float RoundTo(float x, SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.BF16 => Bf16(x),
        SafetensorsDType.F16 => F16(x),
        _ => x,
    };

    /// <summary>Normal values with standard deviation <paramref name="std"/>, already rounded to the dtype they will be stored in.</summary>
    public static float[] Gaussian(Random rng, int count, float std, SafetensorsDType dtype)
    {
        var v = new float[count];
        for (int i = 0; i < count; i++)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            v[i] = RoundTo((float)(std * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2)), dtype);
        }

        return v;
    }

    /// <summary>Values around 1 for norm weights, exact in the dtype.</summary>
    public static float[] NormWeights(Random rng, int count, SafetensorsDType dtype) =>
        Enumerable.Range(0, count).Select(_ => RoundTo(0.5f + rng.NextSingle(), dtype)).ToArray();

    /// <summary>
    /// A deterministic value for element (r, c) of a big generated tensor: ±(1 + m/128)·2^−e with e in 1..6, exact in
    /// BF16 and F16 alike, so conversions to F16/BF16/F32 must reproduce it bit for bit.
    /// </summary>
    public static float Hashed(int seed, long r, long c)
    {
        ulong h = (ulong)seed * 0x9E3779B97F4A7C15UL ^ (ulong)r * 0xBF58476D1CE4E5B9UL ^ (ulong)c * 0x94D049BB133111EBUL;
        h ^= h >> 31;
        h *= 0xD6E8FEB86659FD93UL;
        h ^= h >> 32;
        // bfloat16 bits: sign, biased exponent 127 − e, seven mantissa bits.
        uint m = (uint)(h & 0x7F), e = 1 + (uint)((h >> 7) % 6), sign = (uint)((h >> 12) & 1);
        return BitConverter.UInt32BitsToSingle(((sign << 15) | ((127 - e) << 7) | m) << 16);
    }

    /// <summary>BitNet's weight_quant: γ = mean|W| (clamped at 1e-5), W̃ = clamp(round_half_even(W/γ), −1, 1).</summary>
    public static (sbyte[] Values, float Scale) Absmean(float[] w)
    {
        double sum = 0;
        foreach (float x in w)
            sum += Math.Abs((double)x);
        float gamma = Math.Max((float)(sum / w.Length), 1e-5f);
        var q = new sbyte[w.Length];
        for (int i = 0; i < w.Length; i++)
            q[i] = (sbyte)Math.Clamp(Math.Round((double)w[i] / gamma, MidpointRounding.ToEven), -1, 1);
        return (q, gamma);
    }

    public static sbyte[] RandomTernary(Random rng, int count)
    {
        var v = new sbyte[count];
        for (int i = 0; i < count; i++)
            v[i] = (sbyte)(rng.Next(3) - 1);
        return v;
    }

    /// <summary>
    /// transformers' pack_weights for W [rows, cols] in {−1, 0, 1}: R = rows/4 packed rows; bits 2i..2i+1 of packed row r
    /// hold row i·R + r as the code value + 1.
    /// </summary>
    public static byte[] Pack(sbyte[] w, int rows, int cols)
    {
        int packedRows = rows / 4;
        var packed = new byte[packedRows * cols];
        for (int i = 0; i < 4; i++)
        {
            for (int r = 0; r < packedRows; r++)
            {
                for (int c = 0; c < cols; c++)
                    packed[(r * cols) + c] |= (byte)((w[(((i * packedRows) + r) * cols) + c] + 1) << (2 * i));
            }
        }

        return packed;
    }

    /// <summary>
    /// llama.cpp's LlamaModel.permute: W.reshape(heads, 2, rows/heads/2, cols).swapaxes(1, 2).reshape(rows, cols),
    /// written out index by index: element [h, t, i, c] of the reshaped source lands at [h, i, t, c].
    /// </summary>
    public static T[] LlamaPermute<T>(T[] w, int rows, int cols, int heads)
    {
        int half = rows / heads / 2;
        var result = new T[w.Length];
        for (int h = 0; h < heads; h++)
        {
            for (int t = 0; t < 2; t++)
            {
                for (int i = 0; i < half; i++)
                {
                    int src = (((h * 2) + t) * half) + i;
                    int dst = (((h * half) + i) * 2) + t;
                    Array.Copy(w, src * cols, result, dst * cols, cols);
                }
            }
        }

        return result;
    }

    /// <summary>
    /// llama.cpp's rope_freqs for rope_scaling "llama3" (LlamaModel.generate_extra_tensors), with torch's float32 freqs.
    /// </summary>
    public static float[] Llama3RopeFactors(double theta, int headDim, double factor, double lowFreqFactor, double highFreqFactor, double oldContext)
    {
        double lowWavelen = oldContext / lowFreqFactor, highWavelen = oldContext / highFreqFactor;
        var factors = new float[headDim / 2];
        for (int k = 0; k < factors.Length; k++)
        {
            float freq = 1f / MathF.Pow((float)theta, 2f * k / headDim);
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < highWavelen)
            {
                factors[k] = 1f;
            }
            else if (wavelen > lowWavelen)
            {
                factors[k] = (float)factor;
            }
            else
            {
                double smooth = ((oldContext / wavelen) - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                factors[k] = (float)(1 / (((1 - smooth) / factor) + smooth));
            }
        }

        return factors;
    }
}
