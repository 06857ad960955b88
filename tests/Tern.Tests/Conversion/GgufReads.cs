using Tern.Conversion;
using Tern.Gguf;
using Tern.Quantization;

namespace Tern.Tests.Conversion;

/// <summary>Reading a converted file back, and comparing what it stores with what each GGUF type can hold.</summary>
internal static class GgufReads
{
    /// <summary>Converts a source as `tern convert` does (plan, then write); returns the plan's notes.</summary>
    public static IReadOnlyList<string> Convert(IModelSource source, string output, ConversionOptions options)
    {
        var plan = ModelConverter.Plan(source, options);
        ModelConverter.Write(plan, output);
        return plan.Notes;
    }

    public static GgufTensorInfo Tensor(GgufFile file, string name, GgmlType type, params long[] shape)
    {
        var t = file.GetTensor(name);
        Assert.True(type == t.Type, $"{name}: type {t.Type}, expected {type}");
        Assert.True(shape.SequenceEqual(t.Shape), $"{name}: shape [{string.Join(", ", t.Shape)}], expected [{string.Join(", ", shape)}]");
        return t;
    }

    public static float[] Floats(GgufFile file, GgufTensorInfo t)
    {
        var x = new float[t.ElementCount];
        TensorCodec.Decode(t.Type, file.GetTensorData(t), x);
        return x;
    }

    public static float[] Row(GgufFile file, GgufTensorInfo t, long row)
    {
        long rowBytes = TensorCodec.ByteSize(t.Type, t.Shape[0]);
        var x = new float[t.Shape[0]];
        TensorCodec.Decode(t.Type, file.GetTensorData(t, row * rowBytes, (int)rowBytes), x);
        return x;
    }

    public static TernaryTensor Ternary(GgufFile file, GgufTensorInfo t) =>
        TernaryCodec.DecodeTernary(t.Type, file.GetTensorData(t), t.ElementCount);

    /// <summary>
    /// Asserts that <paramref name="actual"/> is what a file of <paramref name="type"/> holds for <paramref name="expected"/>:
    /// exactly for F32, the nearest-even F16/BF16 value for those, within half a step (plus the fp16 rounding of the
    /// step) for Q8_0's blocks of 32.
    /// </summary>
    public static void AssertStoredAs(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, GgmlType type, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        float tolerance = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            if (type == GgmlType.Q8_0 && i % 32 == 0)
            {
                float amax = 0;
                foreach (float v in expected.Slice(i, 32))
                    amax = MathF.Max(amax, MathF.Abs(v));
                tolerance = amax / 127 * 0.6f;
            }

            float want = type switch
            {
                GgmlType.F32 => expected[i],
                GgmlType.F16 => Expected.F16(expected[i]),
                GgmlType.BF16 => Expected.Bf16(expected[i]),
                GgmlType.Q8_0 => expected[i],
                _ => throw new ArgumentException($"no float expectation for {type}", nameof(type)),
            };

            if (!(MathF.Abs(actual[i] - want) <= tolerance))
                Assert.Fail($"{what}: element {i} is {actual[i]:R}, expected {want:R} (±{tolerance}) as {type}");
        }
    }

    /// <summary>The ternary values (and per-block scales) decoded from a file equal the expected ones.</summary>
    public static void AssertTernary(TernaryTensor actual, sbyte[] values, float scale, GgmlType type, string what)
    {
        Assert.Equal(values.Length, actual.Values.Length);
        int bad = actual.Values.AsSpan().CommonPrefixLength(values);
        if (bad < values.Length)
            Assert.Fail($"{what}: ternary value {bad} is {actual.Values[bad]}, expected {values[bad]}");
        // I2_S keeps γ as a float32; TQ1_0/TQ2_0 keep an fp16 copy in every block of 256 that holds a nonzero
        // value, and 0 in a block of zeros (llama.cpp's d = max|x|).
        float want = type == GgmlType.I2_S ? scale : Expected.F16(scale);
        for (int b = 0; b < actual.BlockScales.Length; b++)
        {
            int start = b * actual.BlockSize;
            bool zeros = !values.AsSpan(start, Math.Min(actual.BlockSize, values.Length - start)).ContainsAnyExcept((sbyte)0);
            float expected = type != GgmlType.I2_S && zeros ? 0f : want;
            Assert.True(actual.BlockScales[b] == expected, $"{what}: block {b} scale {actual.BlockScales[b]:R}, expected {expected:R}");
        }
    }
}
