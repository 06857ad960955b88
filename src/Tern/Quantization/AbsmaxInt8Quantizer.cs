using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Tern.Quantization;

/// <summary>
/// BitNet b1.58 activation quantization, per token: s = 127 / max(max|x|, 1e-5); q = clamp(round(x·s), −128, 127)
/// with round half to even (torch.round); x ≈ q / s.
/// Definition: https://github.com/microsoft/unilm/blob/master/bitnet/The-Era-of-1-bit-LLMs__Training_Tips_Code_FAQ.pdf
/// (activation_quant).
/// </summary>
public static class AbsmaxInt8Quantizer
{
    public const float MinAbsMax = 1e-5f;

    /// <summary>Quantizes one token's activations; returns s (multiply q by 1/s to get x back).</summary>
    public static float Quantize(ReadOnlySpan<float> x, Span<sbyte> q) => Quantize(x, q, out _);

    /// <summary>Quantizes one token's activations and also returns Σq, which ternary products subtract.</summary>
    public static float Quantize(ReadOnlySpan<float> x, Span<sbyte> q, out int sum)
    {
        if (q.Length != x.Length)
            throw new ArgumentException($"absmax int8: {x.Length} activations need {x.Length} outputs, got {q.Length}.", nameof(q));

        float amax = x.IsEmpty ? 0f : MathF.Abs(TensorPrimitives.MaxMagnitude(x));
        float s = 127f / MathF.Max(amax, MinAbsMax);
        int i = 0;
        sum = 0;
        if (Vector256.IsHardwareAccelerated && x.Length >= 32)
        {
            // The same product and rounding as the scalar loop, 32 at a time; after the clamp, narrowing is exact.
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref sbyte qs = ref MemoryMarshal.GetReference(q);
            var scale = Vector256.Create(s);
            var sums = Vector256<int>.Zero;
            for (; i <= x.Length - 32; i += 32)
            {
                var a = Round(Vector256.LoadUnsafe(ref xs, (nuint)i), scale);
                var b = Round(Vector256.LoadUnsafe(ref xs, (nuint)i + 8), scale);
                var c = Round(Vector256.LoadUnsafe(ref xs, (nuint)i + 16), scale);
                var d = Round(Vector256.LoadUnsafe(ref xs, (nuint)i + 24), scale);
                sums += (a + b) + (c + d);
                var bytes = Vector256.Narrow(Vector256.Narrow(a, b), Vector256.Narrow(c, d));
                bytes.StoreUnsafe(ref qs, (nuint)i);
            }

            sum = Vector256.Sum(sums);
        }

        for (; i < x.Length; i++)
        {
            var v = (sbyte)Math.Clamp(MathF.Round(x[i] * s), -128f, 127f);
            q[i] = v;
            sum += v;
        }

        return s;
    }

    private static Vector256<int> Round(Vector256<float> x, Vector256<float> scale) =>
        Vector256.ConvertToInt32(Vector256.Min(Vector256.Max(Vector256.Round(x * scale), Vector256.Create(-128f)), Vector256.Create(127f)));
}
