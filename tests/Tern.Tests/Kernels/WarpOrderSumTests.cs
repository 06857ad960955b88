using Tern.Kernels;

namespace Tern.Tests.Kernels;

/// <summary>
/// <see cref="WarpOrderSum"/>, <see cref="BlockOrderSum"/> and <see cref="ChunkOrderSum"/> against their definitions written out the slow way (32
/// lane partials in turn, then the xor butterfly, every lane computed as a warp would), bit for bit, on random data of every length class: empty,
/// shorter than a warp, whole warps, and ragged tails, through both the vector and the scalar paths.
/// </summary>
public class WarpOrderSumTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(33)]
    [InlineData(64)]
    [InlineData(100)]
    [InlineData(128)]
    [InlineData(2560)]
    [InlineData(6913)]
    public void Sums_are_the_warps_bit_for_bit(int length)
    {
        var random = new Random(length + 11);
        var a = new float[length];
        var b = new float[length];
        for (int i = 0; i < length; i++)
        {
            a[i] = (float)((random.NextDouble() * 2) - 1) * (1 << random.Next(8));
            b[i] = (float)((random.NextDouble() * 2) - 1);
        }

        Assert.Equal(Bits(Warp(a, b)), Bits(WarpOrderSum.Dot(a, b)));
        Assert.Equal(Bits(Chunks(a)), Bits(ChunkOrderSum.SumOfSquares(a)));
        var ones = Enumerable.Repeat(1f, length).ToArray();
        Assert.Equal(Bits(Block(a, ones)), Bits(BlockOrderSum.Sum(a)));
    }

    [Fact]
    public void The_order_is_not_the_sequential_one()
    {
        // 1 + 2⁻²⁴ + … rounds differently in sequence and in lanes: the test above could not pass with a plain loop.
        var x = new float[64];
        x[0] = 1f;
        for (int i = 1; i < x.Length; i++)
            x[i] = 1f / (1 << 24);
        float sequential = 0;
        foreach (float v in x)
            sequential += v;
        Assert.NotEqual(Bits(sequential), Bits(WarpOrderSum.Dot(x, Enumerable.Repeat(1f, x.Length).ToArray())));
        Assert.NotEqual(Bits(sequential), Bits(BlockOrderSum.Sum(x.Concat(new float[300]).ToArray())));
        // Squares: 1, then 63 chunks holding 2⁻¹² (square 2⁻²⁴): in sequence each rounds away against 1, in chunk order the lanes add them up first.
        var y = new float[16 * 64];
        y[0] = 1f;
        for (int i = 16; i < y.Length; i += 16)
            y[i] = 1f / (1 << 12);
        float squares = 0;
        foreach (float v in y)
            squares += v * v;
        Assert.NotEqual(Bits(squares), Bits(ChunkOrderSum.SumOfSquares(y)));
    }

    [Fact]
    public void Vectors_of_different_lengths_are_refused() =>
        Assert.Throws<ArgumentException>(() => WarpOrderSum.Dot(new float[3], new float[4]));

    /// <summary>What a block of 256 threads computes: each warp's butterfly over its lanes' strided partials, then the pairwise tree of the eight warps.</summary>
    private static float Block(float[] a, float[] b)
    {
        var warps = new float[8];
        for (int w = 0; w < 8; w++)
        {
            var lanes = new float[32];
            for (int lane = 0; lane < 32; lane++)
            {
                float v = 0f;
                for (int i = (w * 32) + lane; i < a.Length; i += 256)
                    v += a[i] * b[i];
                lanes[lane] = v;
            }

            warps[w] = Butterfly(lanes);
        }

        return ((warps[0] + warps[1]) + (warps[2] + warps[3])) + ((warps[4] + warps[5]) + (warps[6] + warps[7]));
    }

    /// <summary>What a warp computes from the chunks' sums of squares (each of 16 elements in sequence, the last one ragged): lane j adds chunks j, j + 32, ….</summary>
    private static float Chunks(float[] a)
    {
        int chunks = (a.Length + 15) / 16;
        var sums = new float[chunks];
        for (int c = 0; c < chunks; c++)
        {
            for (int i = 16 * c; i < Math.Min(a.Length, 16 * (c + 1)); i++)
                sums[c] += a[i] * a[i];
        }

        return Warp(sums, Enumerable.Repeat(1f, chunks).ToArray());
    }

    /// <summary>What 32 threads of a warp compute: lane partials, then v += shfl_xor(v, offset) in every lane.</summary>
    private static float Warp(float[] a, float[] b)
    {
        var lanes = new float[32];
        for (int lane = 0; lane < 32; lane++)
        {
            float v = 0f;
            for (int i = lane; i < a.Length; i += 32)
                v += a[i] * b[i];
            lanes[lane] = v;
        }

        return Butterfly(lanes);
    }

    private static float Butterfly(float[] lanes)
    {
        for (int offset = 16; offset > 0; offset >>= 1)
        {
            var next = new float[32];
            for (int lane = 0; lane < 32; lane++)
                next[lane] = lanes[lane] + lanes[lane ^ offset];
            lanes = next;
        }

        for (int lane = 1; lane < 32; lane++)
            Assert.Equal(Bits(lanes[0]), Bits(lanes[lane]));
        return lanes[0];
    }

    private static int Bits(float value) => BitConverter.SingleToInt32Bits(value);
}
