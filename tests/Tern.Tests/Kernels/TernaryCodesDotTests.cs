using System.Runtime.Intrinsics.X86;
using Tern.Kernels;
using Tern.Quantization;

namespace Tern.Tests.Kernels;

public class TernaryCodesDotTests
{
    public static TheoryData<int> BlockCounts => [1, 2, 3, 4, 5, 6, 7, 8, 9, 20, 27, 54];

    private static (byte[] Codes, sbyte[] Q) Random(int blocks, int seed)
    {
        var rng = new Random(seed);
        var codes = new byte[blocks * TernaryCodesDot.BlockBytes];
        var q = new sbyte[blocks * TernaryCodesDot.BlockWeights];
        rng.NextBytes(codes);
        for (int i = 0; i < q.Length; i++)
            q[i] = (sbyte)rng.Next(-128, 128);
        return (codes, q);
    }

    [Theory]
    [MemberData(nameof(BlockCounts))]
    public void EverySimdPathEqualsTheScalarReference(int blocks)
    {
        // Random bytes hold all four 2-bit codes (3 included) and activations the whole int8 range, −128 too.
        var (codes, q) = Random(blocks, 1000 + blocks);
        int expected = TernaryCodesDot.DotScalar(codes, q);
        Assert.Equal(expected, TernaryCodesDot.Dot(codes, q));
        if (Ssse3.IsSupported)
            Assert.Equal(expected, TernaryCodesDot.Dot128(codes, q));
        if (Avx2.IsSupported)
            Assert.Equal(expected, TernaryCodesDot.Dot256(codes, q));
        if (Avx512BW.IsSupported)
            Assert.Equal(expected, TernaryCodesDot.Dot512(codes, q));
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
    public void PartialBlocksAreRefused()
    {
        Assert.Throws<ArgumentException>(() => TernaryCodesDot.Dot(new byte[32], new sbyte[100]));
        Assert.Throws<ArgumentException>(() => TernaryCodesDot.Dot(new byte[16], new sbyte[128]));
    }
}
