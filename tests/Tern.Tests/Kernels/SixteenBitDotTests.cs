using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Tern.Kernels;
using Tern.Quantization;

namespace Tern.Tests.Kernels;

public class SixteenBitDotTests
{
    public static TheoryData<int, int> Shapes => new()
    {
        { 1, 1 }, { 3, 7 }, { 5, 16 }, { 7, 33 }, { 9, 100 }, { 13, 256 }, { 4, 2560 }, { 11, 2565 },
    };

    private delegate void RowsKernel(ReadOnlySpan<ushort> w, ReadOnlySpan<float> x, Span<float> y);

    private static (ushort[] W, float[] X, float[] Weights) Random(int rows, int columns, int seed, bool bfloat)
    {
        var rng = new Random(seed);
        var weights = Enumerable.Range(0, rows * columns).Select(_ => (float)(rng.NextDouble() * 2 - 1) * 0.05f).ToArray();
        var bytes = new byte[weights.Length * 2];
        if (bfloat)
            BF16Format.Encode(weights, bytes);
        else
            F16Format.Encode(weights, bytes);
        var w = new ushort[weights.Length];
        Buffer.BlockCopy(bytes, 0, w, 0, bytes.Length);
        var x = Enumerable.Range(0, columns).Select(_ => (float)(rng.NextDouble() * 8 - 4)).ToArray();
        return (w, x, weights);
    }

    /// <summary>
    /// Widening is exact, so two summation orders of n products differ by at most about 2·n·2⁻²⁴·Σ|wᵢxᵢ| (each sum is
    /// within n·2⁻²⁴·Σ|wᵢxᵢ| of the exact value); products themselves round alike or are fused.
    /// </summary>
    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, ReadOnlySpan<float> widened, ReadOnlySpan<float> x)
    {
        int n = x.Length;
        for (int r = 0; r < expected.Length; r++)
        {
            double magnitude = 0;
            for (int i = 0; i < n; i++)
                magnitude += Math.Abs((double)widened[(r * n) + i] * x[i]);
            double bound = (2.0 * (n + 1) * Math.Pow(2, -24) * magnitude) + 1e-30;
            Assert.True(Math.Abs(expected[r] - actual[r]) <= bound, $"row {r}: {actual[r]} against {expected[r]} (bound {bound})");
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void EveryHalfPathAgreesWithTheScalarReference(int rows, int columns) => EveryPath<HalfBits>(rows, columns, bfloat: false);

    [Theory]
    [MemberData(nameof(Shapes))]
    public void EveryBFloat16PathAgreesWithTheScalarReference(int rows, int columns) => EveryPath<BFloat16Bits>(rows, columns, bfloat: true);

    private static void EveryPath<TFormat>(int rows, int columns, bool bfloat)
        where TFormat : struct, ISixteenBitFloat
    {
        var (w, x, _) = Random(rows, columns, (rows * 1000) + columns, bfloat);
        var widened = w.Select(TFormat.ToSingle).ToArray();
        var expected = new float[rows];
        SixteenBitDot<TFormat>.RowsScalar(w, x, expected);
        var paths = new List<RowsKernel> { SixteenBitDot<TFormat>.Rows };
        if (Avx512F.IsSupported)
            paths.Add(SixteenBitDot<TFormat>.Rows512);
        if (Avx2.IsSupported)
            paths.Add(SixteenBitDot<TFormat>.Rows256);
        if (Vector128.IsHardwareAccelerated)
            paths.Add(SixteenBitDot<TFormat>.Rows128);
        foreach (var path in paths)
        {
            var actual = new float[rows];
            path(w, x, actual);
            AssertClose(expected, actual, widened, x);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TheScalarReferenceIsTheDotProductOfTheDecodedRows(bool bfloat)
    {
        // Independent of the kernel: decode with the format's own reference and sum in double.
        const int rows = 7, columns = 300;
        var (w, x, _) = Random(rows, columns, 5, bfloat);
        var bytes = new byte[w.Length * 2];
        Buffer.BlockCopy(w, 0, bytes, 0, bytes.Length);
        var decoded = new float[w.Length];
        if (bfloat)
            BF16Format.Decode(bytes, decoded);
        else
            F16Format.Decode(bytes, decoded);
        var y = new float[rows];
        if (bfloat)
            SixteenBitDot<BFloat16Bits>.RowsScalar(w, x, y);
        else
            SixteenBitDot<HalfBits>.RowsScalar(w, x, y);
        var exact = new float[rows];
        for (int r = 0; r < rows; r++)
            exact[r] = (float)Enumerable.Range(0, columns).Sum(i => (double)decoded[(r * columns) + i] * x[i]);
        AssertClose(exact, y, decoded, x);
    }

    [Fact]
    public void HalfWideningIsExactForAll65536Halves()
    {
        // Zeros, subnormals, normals, infinities and NaNs (payload kept) on every vector width.
        for (int i = 0; i < 65536; i += 16)
        {
            var v = Vector512.Create(Enumerable.Range(i, 16).Select(j => (int)(short)j).ToArray());
            var w512 = HalfBits.ToSingle(v);
            var w256 = HalfBits.ToSingle(v.GetLower());
            var w128 = HalfBits.ToSingle(v.GetUpper().GetLower());
            for (int j = 0; j < 16; j++)
            {
                AssertWidened(i + j, w512[j]);
                if (j < 8)
                    AssertWidened(i + j, w256[j]);
                if (j < 4)
                    AssertWidened(i + 8 + j, w128[j]);
            }
        }
    }

    /// <summary>Bit for bit what System.Half gives, except that a signaling NaN stays signaling (any arithmetic quiets it).</summary>
    private static void AssertWidened(int bits, float actual)
    {
        uint expected = BitConverter.SingleToUInt32Bits((float)BitConverter.UInt16BitsToHalf((ushort)bits));
        uint got = BitConverter.SingleToUInt32Bits(actual);
        if (float.IsNaN(actual))
            got |= 0x0040_0000;
        Assert.True(expected == got, $"half 0x{bits:X4}: 0x{got:X8}, expected 0x{expected:X8}");
    }
}
