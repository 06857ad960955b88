using System.Buffers.Binary;
using System.Runtime.Intrinsics.X86;
using Tern.Kernels;
using Tern.Quantization;
using static Tern.Tests.Kernels.QuantizedDotTestData;

namespace Tern.Tests.Kernels;

public class Q8_0DotTests
{
    public static TheoryData<int, int> Shapes => new()
    {
        { 1, 1 }, { 3, 2 }, { 5, 3 }, { 7, 5 }, { 13, 80 }, { 2, 81 },
    };

    private delegate void RowsKernel(ReadOnlySpan<byte> w, ReadOnlySpan<sbyte> q, ReadOnlySpan<float> scales, Span<float> y);

    /// <summary>Random blocks: any byte is a weight (−128 included), scales of both signs.</summary>
    private static byte[] RandomBlocks(Random rng, int count)
    {
        var w = new byte[count * Q8_0Format.BytesPerBlock];
        rng.NextBytes(w);
        for (int b = 0; b < count; b++)
            BinaryPrimitives.WriteHalfLittleEndian(w.AsSpan(b * Q8_0Format.BytesPerBlock), (Half)((rng.NextDouble() - 0.5) * 0.02));
        return w;
    }

    private static (sbyte[] Values, float[] Scales) Quantize(float[] x)
    {
        var values = new sbyte[x.Length];
        var scales = new float[x.Length / 32];
        Q8_0Activations.Quantize(x, values, scales);
        return (values, scales);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void EverySimdPathAgreesWithTheScalarReference(int rows, int blocks)
    {
        var rng = new Random((rows * 100) + blocks);
        var w = RandomBlocks(rng, rows * blocks);
        var (q, scales) = Quantize(Activations(rng, blocks * 32));
        var expected = new float[rows];
        Q8_0Dot.RowsScalar(w, q, scales, expected);

        var paths = new List<(string, RowsKernel)> { ("dispatch", Q8_0Dot.Rows) };
        if (Avx512BW.IsSupported)
            paths.Add(("512", Q8_0Dot.Rows512));
        if (Avx2.IsSupported)
            paths.Add(("256", Q8_0Dot.Rows256));
        if (Ssse3.IsSupported)
            paths.Add(("128", Q8_0Dot.Rows128));
        foreach (var (name, path) in paths)
        {
            var actual = new float[rows];
            path(w, q, scales, actual);
            for (int r = 0; r < rows; r++)
                AssertClose(expected[r], actual[r], Magnitude(w, q, scales, r, blocks), blocks, $"{name} row {r}");
        }
    }

    /// <summary>Σ_b |d_w·d_x·Σ w·q| of one row, straight from the block definition.</summary>
    private static double Magnitude(byte[] w, sbyte[] q, float[] scales, int row, int blocks)
    {
        double sum = 0;
        for (int b = 0; b < blocks; b++)
        {
            var block = w.AsSpan(((row * blocks) + b) * 34, 34);
            long dot = 0;
            for (int j = 0; j < 32; j++)
                dot += (sbyte)block[2 + j] * q[(b * 32) + j];
            sum += Math.Abs((double)BinaryPrimitives.ReadHalfLittleEndian(block) * scales[b] * dot);
        }

        return sum;
    }

    [Fact]
    public void TheScalarReferenceIsTheDotProductOfDequantizedWeightsAndActivations()
    {
        // Independent of the kernel: W encoded and decoded by Q8_0Format, x quantized and multiplied back out,
        // the dot product summed in double.
        const int rows = 5, columns = 320;
        var rng = new Random(3);
        var floats = Enumerable.Range(0, rows * columns).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var w = new byte[Q8_0Format.ByteSize(floats.Length)];
        Q8_0Format.Encode(floats, w);
        var decoded = new float[floats.Length];
        Q8_0Format.Decode(w, decoded);
        var x = Activations(rng, columns);
        var (q, scales) = Quantize(x);
        var xHat = Enumerable.Range(0, columns).Select(i => q[i] * scales[i / 32]).ToArray();

        var y = new float[rows];
        Q8_0Dot.RowsScalar(w, q, scales, y);
        for (int r = 0; r < rows; r++)
        {
            double exact = 0, magnitude = 0;
            for (int i = 0; i < columns; i++)
            {
                exact += (double)decoded[(r * columns) + i] * xHat[i];
                magnitude += Math.Abs((double)decoded[(r * columns) + i] * xHat[i]);
            }

            AssertClose((float)exact, y[r], magnitude, columns / 32, $"row {r}");
        }
    }

    [Fact]
    public void ActivationsAreQuantizedExactlyAsQ8_0FormatEncodes()
    {
        var rng = new Random(8);
        var x = Activations(rng, 32 * 9);
        x.AsSpan(64, 32).Clear(); // an all-zero block
        var (q, scales) = Quantize(x);
        var blocks = new byte[Q8_0Format.ByteSize(x.Length)];
        Q8_0Format.Encode(x, blocks);
        for (int b = 0; b < x.Length / 32; b++)
        {
            Assert.Equal((float)BinaryPrimitives.ReadHalfLittleEndian(blocks.AsSpan(b * 34)), scales[b]);
            for (int j = 0; j < 32; j++)
                Assert.Equal((sbyte)blocks[(b * 34) + 2 + j], q[(b * 32) + j]);
        }
    }

    [Fact]
    public void PartialBlocksAreRefused()
    {
        Assert.Throws<ArgumentException>(() => Q8_0Dot.Rows(new byte[34], new sbyte[31], new float[1], new float[1]));
        Assert.Throws<ArgumentException>(() => Q8_0Dot.Rows(new byte[33], new sbyte[32], new float[1], new float[1]));
    }
}
