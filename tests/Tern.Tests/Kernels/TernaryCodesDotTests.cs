using System.Runtime.Intrinsics.X86;
using Tern.Kernels;
using Tern.Quantization;

namespace Tern.Tests.Kernels;

public class TernaryCodesDotTests
{
    public static TheoryData<int> BlockCounts => [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 20, 27, 54];

    /// <summary>Codes an I2_S encoder writes (0, 1, 2 in every 2-bit field) and activations over all of int8.</summary>
    private static (byte[] Codes, sbyte[] Q) Random(int codeBytes, int activations, int seed)
    {
        var rng = new Random(seed);
        var codes = new byte[codeBytes];
        for (int i = 0; i < codes.Length; i++)
            codes[i] = (byte)((rng.Next(3) << 6) | (rng.Next(3) << 4) | (rng.Next(3) << 2) | rng.Next(3));
        var q = new sbyte[activations];
        for (int i = 0; i < q.Length; i++)
            q[i] = (sbyte)rng.Next(-128, 128);
        return (codes, q);
    }

    private static void AssertEveryPath(byte[] codes, sbyte[] q)
    {
        int expected = TernaryCodesDot.DotScalar(codes, q);
        Assert.Equal((expected, "dispatch"), (TernaryCodesDot.Dot(codes, q), "dispatch"));
        if (Ssse3.IsSupported)
            Assert.Equal((expected, "Vector128"), (TernaryCodesDot.Dot128(codes, q), "Vector128"));
        if (Avx2.IsSupported)
            Assert.Equal((expected, "Vector256"), (TernaryCodesDot.Dot256(codes, q), "Vector256"));
        if (Avx512BW.IsSupported)
            Assert.Equal((expected, "Vector512"), (TernaryCodesDot.Dot512(codes, q), "Vector512"));
        Assert.Equal((expected, "portable"), (TernaryCodesDot.DotPortable(codes, q), "portable"));
    }

    [Theory]
    [MemberData(nameof(BlockCounts))]
    public void EverySimdPathEqualsTheScalarReference(int blocks)
    {
        var (codes, q) = Random(blocks * TernaryCodesDot.BlockBytes, blocks * TernaryCodesDot.BlockWeights, 1000 + blocks);
        AssertEveryPath(codes, q);
    }

    [Theory]
    [InlineData(2, -128)]
    [InlineData(2, 127)]
    [InlineData(0, -128)]
    [InlineData(1, -128)]
    public void ExtremeRowsDoNotOverflowTheNarrowSums(int code, int activation)
    {
        // The int16 sums are widened every eight blocks: the largest codes times −128 everywhere is the edge.
        foreach (int blocks in new[] { 8, 9, 16, 54 })
        {
            var codes = Enumerable.Repeat((byte)((code << 6) | (code << 4) | (code << 2) | code), blocks * TernaryCodesDot.BlockBytes).ToArray();
            var q = Enumerable.Repeat((sbyte)activation, blocks * TernaryCodesDot.BlockWeights).ToArray();
            Assert.Equal(code * activation * q.Length, TernaryCodesDot.DotScalar(codes, q));
            AssertEveryPath(codes, q);
        }
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(37, 2, 1)]
    [InlineData(33, 3, 4)]
    [InlineData(65, 5, 7)]
    [InlineData(3, 20, 9)]
    [InlineData(70, 27, 13)]
    public void ManyRowsAndTokensEqualTheReference(int rows, int blocks, int tokens)
    {
        // Rows past a tile of 32, tokens in groups of four and left over, sums written with a stride wider than the rows.
        int columns = blocks * TernaryCodesDot.BlockWeights, stride = rows + 3;
        var (codes, q) = Random(rows * columns / 4, tokens * columns, (rows * 100) + tokens);
        var expected = new int[tokens * stride];
        TernaryCodesDot.MultiplyScalar(codes, columns, q, tokens, expected, stride);
        var actual = new int[tokens * stride];
        TernaryCodesDot.Multiply(codes, columns, q, tokens, actual, stride);
        Assert.Equal(expected, actual);
        for (int t = 0; t < tokens; t++)
        {
            for (int r = 0; r < rows; r++)
                Assert.Equal(TernaryCodesDot.DotScalar(codes.AsSpan(r * columns / 4, columns / 4), q.AsSpan(t * columns, columns)), expected[(t * stride) + r]);
        }

        if (Avx512BW.IsSupported)
        {
            var direct = new int[tokens * stride];
            TernaryCodesDot.Multiply512(codes, columns, q, tokens, direct, stride);
            Assert.Equal(expected, direct);
        }
    }

    [Theory]
    [MemberData(nameof(BlockCounts))]
    public void OnI2SDataItComputesTheTernaryDotProduct(int blocks)
    {
        // Independent of the kernel's layout knowledge: pack random ternary weights with the I2_S format, then
        // Σ c·q − Σ q must equal Σ w̃·q computed from the values.
        var rng = new Random(blocks);
        int n = blocks * TernaryCodesDot.BlockWeights;
        var w = new sbyte[n];
        var q = new sbyte[n];
        for (int i = 0; i < n; i++)
        {
            w[i] = (sbyte)rng.Next(-1, 2);
            q[i] = (sbyte)rng.Next(-127, 128);
        }

        var packed = new byte[I2SFormat.ByteSize(n)];
        I2SFormat.Encode(w, 1f, packed);
        int expected = 0, sumQ = 0;
        for (int i = 0; i < n; i++)
        {
            expected += w[i] * q[i];
            sumQ += q[i];
        }

        Assert.Equal(expected, TernaryCodesDot.Dot(packed.AsSpan(0, n / 4), q) - sumQ);
    }

    [Fact]
    public void PartialBlocksAndShortBuffersAreRefused()
    {
        Assert.Throws<ArgumentException>(() => TernaryCodesDot.Dot(new byte[32], new sbyte[100]));
        Assert.Throws<ArgumentException>(() => TernaryCodesDot.Dot(new byte[16], new sbyte[128]));
        Assert.Throws<ArgumentException>(() => TernaryCodesDot.Multiply(new byte[64], 100, new sbyte[256], 1, new int[2], 2));
        Assert.Throws<ArgumentException>(() => TernaryCodesDot.Multiply(new byte[64], 128, new sbyte[200], 2, new int[4], 2));
        Assert.Throws<ArgumentException>(() => TernaryCodesDot.Multiply(new byte[64], 128, new sbyte[256], 2, new int[3], 2));
    }
}
