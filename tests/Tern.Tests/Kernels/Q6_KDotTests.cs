using System.Buffers.Binary;
using System.Runtime.Intrinsics.X86;
using Tern.Kernels;
using Tern.Quantization;
using static Tern.Tests.Kernels.QuantizedDotTestData;

namespace Tern.Tests.Kernels;

public class Q6_KDotTests
{
    public static TheoryData<int, int> Shapes => new()
    {
        { 1, 1 }, { 3, 2 }, { 5, 3 }, { 7, 10 }, { 13, 11 },
    };

    private delegate void RowsKernel(ReadOnlySpan<byte> w, ReadOnlySpan<sbyte> q, ReadOnlySpan<float> scales, ReadOnlySpan<short> sums, Span<float> y);

    /// <summary>Random super-blocks: every level and sub-block scale (−128 included), d of both signs.</summary>
    private static byte[] RandomBlocks(Random rng, int count)
    {
        var w = new byte[count * Q6_KFormat.BytesPerBlock];
        rng.NextBytes(w);
        for (int b = 0; b < count; b++)
            BinaryPrimitives.WriteHalfLittleEndian(w.AsSpan((b * Q6_KFormat.BytesPerBlock) + 208), (Half)((rng.NextDouble() - 0.5) * 0.001));
        return w;
    }

    private static (sbyte[] Values, float[] Scales, short[] Sums) Quantize(float[] x)
    {
        var values = new sbyte[x.Length];
        var scales = new float[x.Length / 256];
        var sums = new short[x.Length / 16];
        Q8_KActivations.Quantize(x, values, scales, sums);
        return (values, scales, sums);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void EverySimdPathAgreesWithTheScalarReference(int rows, int blocks)
    {
        var rng = new Random((rows * 100) + blocks);
        var w = RandomBlocks(rng, rows * blocks);
        var (q, scales, sums) = Quantize(Activations(rng, blocks * 256));
        var expected = new float[rows];
        Q6_KDot.RowsScalar(w, q, scales, sums, expected);

        var paths = new List<(string, RowsKernel)> { ("dispatch", Q6_KDot.Rows) };
        if (Avx512BW.IsSupported)
            paths.Add(("512", Q6_KDot.Rows512));
        if (Avx2.IsSupported)
            paths.Add(("256", Q6_KDot.Rows256));
        if (Ssse3.IsSupported)
            paths.Add(("128", Q6_KDot.Rows128));
        var decoded = new float[w.Length / Q6_KFormat.BytesPerBlock * 256];
        Q6_KFormat.Decode(w, decoded);
        foreach (var (name, path) in paths)
        {
            var actual = new float[rows];
            path(w, q, scales, sums, actual);
            for (int r = 0; r < rows; r++)
            {
                // Every super-block's integer is exact on every path; only the scaling and summing differ.
                double magnitude = 0;
                for (int i = 0; i < blocks * 256; i++)
                    magnitude += Math.Abs((double)decoded[(r * blocks * 256) + i] * q[i] * scales[i / 256]);
                AssertClose(expected[r], actual[r], magnitude, blocks * 8, $"{name} row {r}");
            }
        }
    }

    [Fact]
    public void TheScalarReferenceIsTheDotProductOfDequantizedWeightsAndActivations()
    {
        // Independent of the kernel: W encoded and decoded by Q6_KFormat, x quantized to Q8_K and multiplied back out.
        const int rows = 3, columns = 768;
        var rng = new Random(4);
        var floats = Enumerable.Range(0, rows * columns).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var w = new byte[Q6_KFormat.ByteSize(floats.Length)];
        Q6_KFormat.Encode(floats, w);
        var decoded = new float[floats.Length];
        Q6_KFormat.Decode(w, decoded);
        var x = Activations(rng, columns);
        var (q, scales, sums) = Quantize(x);

        var y = new float[rows];
        Q6_KDot.RowsScalar(w, q, scales, sums, y);
        for (int r = 0; r < rows; r++)
        {
            double exact = 0, magnitude = 0;
            for (int i = 0; i < columns; i++)
            {
                double term = (double)decoded[(r * columns) + i] * (q[i] * (double)scales[i / 256]);
                exact += term;
                magnitude += Math.Abs(term);
            }

            // Decode rounds d·scale·level to float (up to 25 bits), so allow a few more roundings than the kernels.
            AssertClose((float)exact, y[r], magnitude, columns, $"row {r}");
        }
    }

    [Fact]
    public void Q8_KActivationsFollowGgmlsReference()
    {
        var rng = new Random(9);
        var x = Activations(rng, 512);
        x.AsSpan(256, 256).Clear(); // an all-zero block: d = 0, every value 0
        var (q, scales, sums) = Quantize(x);
        Assert.Equal(0f, scales[1]);
        Assert.All(q.Skip(256), v => Assert.Equal(0, v));

        int extreme = Enumerable.Range(0, 256).MaxBy(i => Math.Abs(x[i]));
        Assert.Equal(-127, q[extreme]); // the signed extreme maps to −127: d = −max/127
        Assert.Equal(-x[extreme] / 127f, scales[0], 1e-6f);
        for (int i = 0; i < 256; i++)
            Assert.True(Math.Abs((q[i] * scales[0]) - x[i]) <= (Math.Abs(scales[0]) * 0.5f) + 1e-6f, $"element {i}");
        for (int g = 0; g < 32; g++)
            Assert.Equal(q.Skip(g * 16).Take(16).Sum(v => v), sums[g]);
    }
}
