using System.Buffers.Binary;
using Tern.Gguf;
using Tern.Quantization;

namespace Tern.Tests.Quantization;

public class FloatAndBlockFormatTests
{
    private static float[] RandomFloats(int n, int seed)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            // Roughly Gaussian weights with an occasional outlier, like real checkpoints.
            double g = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
            x[i] = (float)(g * 0.02 * (rng.Next(64) == 0 ? 8 : 1));
        }

        return x;
    }

    [Fact]
    public void BF16_MatchesGgmlRounding()
    {
        // (input bits, expected bf16 bits) worked from ggml_compute_fp32_to_bf16:
        // 0x3F808000 is exactly half-way with an even lower half → stays 0x3F80; 0x3F818000 half-way, odd → 0x3F82;
        // 0x3F808001 just above half → 0x3F81; a signalling NaN 0x7F800001 keeps its top bits and gets 0x40 → 0x7FC0;
        // the largest float rounds to +inf 0x7F80; subnormal 0x00010000 is kept as 0x0001; −0 → 0x8000.
        (uint In, ushort Out)[] cases =
        [
            (0x3F80_8000, 0x3F80), (0x3F81_8000, 0x3F82), (0x3F80_8001, 0x3F81), (0x7F80_0001, 0x7FC0),
            (0x7F7F_FFFF, 0x7F80), (0x0001_0000, 0x0001), (0x8000_0000, 0x8000), (0xFF80_0000, 0xFF80),
        ];
        foreach (var (input, output) in cases)
        {
            var bytes = new byte[2];
            BF16Format.Encode([BitConverter.UInt32BitsToSingle(input)], bytes);
            Assert.Equal(output, BinaryPrimitives.ReadUInt16LittleEndian(bytes));
        }

        var back = new float[1];
        BF16Format.Decode(new byte[] { 0x82, 0x3F }, back);
        Assert.Equal(BitConverter.UInt32BitsToSingle(0x3F82_0000), back[0]);
    }

    [Fact]
    public void F16_RoundsToNearestEven()
    {
        // 1 + 2⁻¹¹ is half-way between 1 and the next fp16 (1 + 2⁻¹⁰): even → 1 (0x3C00);
        // 1 + 3·2⁻¹¹ is half-way between 1 + 2⁻¹⁰ and 1 + 2⁻⁹: even → 1 + 2⁻⁹ (0x3C02).
        var bytes = new byte[4];
        F16Format.Encode([1f + MathF.Pow(2, -11), 1f + (3 * MathF.Pow(2, -11))], bytes);
        Assert.Equal(new byte[] { 0x00, 0x3C, 0x02, 0x3C }, bytes);
    }

    public static TheoryData<GgmlType, int, int> FloatShapes()
    {
        var data = new TheoryData<GgmlType, int, int>();
        GgmlType[] types = [GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.TQ2_0, GgmlType.TQ1_0, GgmlType.I2_S];
        foreach (var type in types)
        {
            foreach (int rows in new[] { 1, 3, 7, 17 })
            {
                foreach (int rowLength in new[] { 256, 768 })
                    data.Add(type, rows, rowLength);
            }
        }

        foreach (var type in new[] { GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.I2_S, GgmlType.F16 })
        {
            data.Add(type, 3, 128);
            data.Add(type, 17, 384);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(FloatShapes))]
    public void RoundTripStaysWithinTheFormatsError(GgmlType type, int rows, int rowLength)
    {
        int n = rows * rowLength;
        var x = RandomFloats(n, seed: (int)type * 1000 + rows * 31 + rowLength);
        var bytes = new byte[TensorCodec.ByteSize(type, n)];
        TensorCodec.Encode(type, x, bytes);
        var y = new float[n];
        TensorCodec.Decode(type, bytes, y);

        switch (type)
        {
            case GgmlType.F32:
                Assert.Equal(x, y);
                break;
            case GgmlType.F16:
                for (int i = 0; i < n; i++)
                    Assert.Equal((float)(Half)x[i], y[i]);
                break;
            case GgmlType.BF16:
                for (int i = 0; i < n; i++)
                    Assert.True(MathF.Abs(x[i] - y[i]) <= MathF.Abs(x[i]) * (1f / 256), $"BF16 element {i}");
                break;
            case GgmlType.Q8_0:
                AssertBlockError(x, y, 32, amax => (amax / 127 * 0.5f) + (amax * 1e-3f));
                break;
            case GgmlType.Q4_0:
                AssertBlockError(x, y, 32, amax => (amax / 8) + (amax * 1e-3f));
                break;
            case GgmlType.TQ2_0:
            case GgmlType.TQ1_0:
                AssertBlockError(x, y, 256, amax => (amax / 2) + (amax * 1e-3f));
                break;
            case GgmlType.Q4_K:
                AssertRelativeRms(x, y, 0.12);
                break;
            case GgmlType.Q6_K:
                AssertRelativeRms(x, y, 0.05);
                break;
            case GgmlType.I2_S:
                var q = new sbyte[n];
                float gamma = AbsmeanTernaryQuantizer.Quantize(x, q);
                for (int i = 0; i < n; i++)
                    Assert.Equal(q[i] * gamma, y[i]);
                break;
        }
    }

    private static void AssertBlockError(float[] x, float[] y, int blockSize, Func<float, float> bound)
    {
        for (int b = 0; b < x.Length / blockSize; b++)
        {
            float amax = 0;
            for (int i = b * blockSize; i < (b + 1) * blockSize; i++)
                amax = MathF.Max(amax, MathF.Abs(x[i]));
            for (int i = b * blockSize; i < (b + 1) * blockSize; i++)
                Assert.True(MathF.Abs(x[i] - y[i]) <= bound(amax), $"element {i}: {x[i]} came back as {y[i]} (block max {amax})");
        }
    }

    private static void AssertRelativeRms(float[] x, float[] y, double limit)
    {
        double err = 0, sig = 0;
        for (int i = 0; i < x.Length; i++)
        {
            err += (x[i] - y[i]) * (double)(x[i] - y[i]);
            sig += x[i] * (double)x[i];
        }

        Assert.True(Math.Sqrt(err / sig) < limit, $"relative RMS error {Math.Sqrt(err / sig):F4} ≥ {limit}");
    }

    [Fact]
    public void Q8_0_EncodesAHandComputedBlock()
    {
        // max|x| = 127 → d = 1 (fp16 0x3C00), id = 1; q = roundf(x) with halves away from zero:
        // 127, −127, 0.5 → 1, −0.5 → −1, 1.5 → 2, 2.5 → 3, −2.5 → −3, 3.49 → 3, the rest 0.
        var x = new float[32];
        float[] head = [127f, -127f, 0.5f, -0.5f, 1.5f, 2.5f, -2.5f, 3.49f];
        head.CopyTo(x, 0);
        var bytes = new byte[34];
        Q8_0Format.Encode(x, bytes);
        var expected = new byte[34];
        byte[] expectedHead = [0x00, 0x3C, 0x7F, 0x81, 0x01, 0xFF, 0x02, 0x03, 0xFD, 0x03];
        expectedHead.CopyTo(expected, 0);
        Assert.Equal(expected, bytes);

        var y = new float[32];
        Q8_0Format.Decode(bytes, y);
        Assert.Equal(new float[] { 127, -127, 1, -1, 2, 3, -3, 3 }, y[..8]);
    }

    [Fact]
    public void Q4_0_EncodesHandComputedBlocks()
    {
        // Block 1: the largest magnitude is x0 = −8 → d = −8/−8 = 1 (fp16 0x3C00), id = 1; q = min(15, trunc(x + 8.5)):
        // x0 −8 → 0, x1 7 → 15, x2 7.6 → 16 → 15, x3 0.5 → 9, x4 −0.5 → 8, x5 0.49 → 8, x16 3 → 11, x17 −3 → 5, zeros → 8.
        // Byte j = q[j] | q[j+16] << 4: 0xB0, 0x5F, 0x8F, 0x89, 0x88, 0x88, … 0x88.
        var x = new float[64];
        x[0] = -8f; x[1] = 7f; x[2] = 7.6f; x[3] = 0.5f; x[4] = -0.5f; x[5] = 0.49f; x[16] = 3f; x[17] = -3f;
        // Block 2: x0 = 16 and x1 = −16 tie in magnitude; the first wins, so d = 16/−8 = −2 (fp16 0xC000), id = −0.5:
        // 16 → −8 + 8.5 → 0; −16 → 8 + 8.5 → 16 → 15; zeros → 8. Bytes: 0x80, 0x8F, 0x88, …
        x[32] = 16f; x[33] = -16f;

        var bytes = new byte[36];
        Q4_0Format.Encode(x, bytes);
        var expected = new byte[36];
        expected.AsSpan(2, 16).Fill(0x88);
        expected.AsSpan(20, 16).Fill(0x88);
        expected[0] = 0x00; expected[1] = 0x3C;
        expected[2] = 0xB0; expected[3] = 0x5F; expected[4] = 0x8F; expected[5] = 0x89;
        expected[18] = 0x00; expected[19] = 0xC0;
        expected[20] = 0x80; expected[21] = 0x8F;
        Assert.Equal(expected, bytes);

        var y = new float[64];
        Q4_0Format.Decode(bytes, y);
        Assert.Equal(-8f, y[0]);
        Assert.Equal(7f, y[1]);
        Assert.Equal(3f, y[16]);
        Assert.Equal(16f, y[32]);
        Assert.Equal(-14f, y[33]);
    }

    [Fact]
    public void Q4_K_DecodesAHandBuiltBlock()
    {
        // d = 1 (0x3C00), dmin = 0.5 (0x3800). Sub-block scales/mins (6 bits each):
        //   sub0: sc 2, m 4; sub1: sc 1, m 0; sub4: sc 33 = 0b10_0001, m 17 = 0b01_0001; others 0.
        // Packed scales[12]: j < 4 keep sc in scales[j] and m in scales[j+4] (low 6 bits); j ≥ 4 keep the low nibbles in
        // scales[j+4] (sc low, m high) and their top two bits in bits 7-6 of scales[j−4] (sc) and scales[j] (m):
        //   scales[0] = 2 | (0b10 << 6) = 0x82, scales[1] = 1, scales[4] = 4 | (0b01 << 6) = 0x44, scales[8] = 0x11.
        // qs: 32 bytes per 64 values, low nibbles the first 32, high nibbles the next 32:
        //   qs[0] = 0x3F → v0 = 1·2·15 − 0.5·4 = 28, v32 = 1·1·3 − 0 = 3; qs[64] = 0x07 → v128 = 1·33·7 − 0.5·17 = 222.5.
        // Every other value is −dmin·m of its sub-block: sub0 −2, sub4 −8.5, elsewhere 0.
        var block = new byte[144];
        block[0] = 0x00; block[1] = 0x3C; block[2] = 0x00; block[3] = 0x38;
        block[4 + 0] = 0x82; block[4 + 1] = 0x01; block[4 + 4] = 0x44; block[4 + 8] = 0x11;
        block[16 + 0] = 0x3F;
        block[16 + 64] = 0x07;

        var expected = new float[256];
        for (int i = 0; i < 32; i++) expected[i] = -2f;
        for (int i = 128; i < 160; i++) expected[i] = -8.5f;
        expected[0] = 28f; expected[32] = 3f; expected[128] = 222.5f;

        var y = new float[256];
        Q4_KFormat.Decode(block, y);
        Assert.Equal(expected, y);
        Assert.Equal(((byte)33, (byte)17), Q4_KFormat.GetScaleMin(4, block.AsSpan(4, 12)));
    }

    [Fact]
    public void Q6_K_DecodesAHandBuiltBlock()
    {
        // d = 0.5 (0x3800 at byte 208); scales (int8, one per 16 values, at byte 192): [0]=2, [1]=−3, [2]=1, [4]=4, [6]=1, [8]=−1.
        // Level q = (4 low bits from ql) | (2 high bits from qh) << 4, value = d·scale·(q − 32). All qh bytes 0xAA
        // (high bits 2 → q = 32 + low) and all ql 0 make every value 0, except:
        //   qh[0] = 0xE4 (fields 0,1,2,3), ql[0] = 0x5A, ql[32] = 0xF3:
        //     v0  = ql[0] low 10 | 0<<4 → −22 · 0.5·2 = −22;   v32 = ql[32] low 3 | 1<<4 = 19 → −13 · 0.5·1 = −6.5
        //     v64 = ql[0] high 5 | 2<<4 = 37 → 5 · 0.5·4 = 10;  v96 = ql[32] high 15 | 3<<4 = 63 → 31 · 0.5·1 = 15.5
        //   qh[16] = 0x00: v16 = 0 | 0 → −32 · 0.5·(−3) = 48; v48, v80, v112 also −32 but their scales ([3],[5],[7]) are 0.
        //   second 128: ql[64] = 0x01 with qh[32] = 0xAA: v128 = 1 | 2<<4 = 33 → 1 · 0.5·(−1) = −0.5.
        var block = new byte[210];
        block.AsSpan(128, 64).Fill(0xAA);
        block[128 + 0] = 0xE4; block[128 + 16] = 0x00;
        block[0] = 0x5A; block[32] = 0xF3; block[64] = 0x01;
        block[192 + 0] = 2; block[192 + 1] = unchecked((byte)-3); block[192 + 2] = 1; block[192 + 4] = 4; block[192 + 6] = 1;
        block[192 + 8] = unchecked((byte)-1);
        block[208] = 0x00; block[209] = 0x38;

        var expected = new float[256];
        expected[0] = -22f; expected[16] = 48f; expected[32] = -6.5f; expected[64] = 10f; expected[96] = 15.5f; expected[128] = -0.5f;

        var y = new float[256];
        Q6_KFormat.Decode(block, y);
        Assert.Equal(expected, y);
    }

    [Fact]
    public void AllZeroBlocksEncodeToZeros()
    {
        foreach (var type in new[] { GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.TQ2_0, GgmlType.TQ1_0 })
        {
            var bytes = new byte[TensorCodec.ByteSize(type, 256)];
            TensorCodec.Encode(type, new float[256], bytes);
            var y = new float[256];
            TensorCodec.Decode(type, bytes, y);
            Assert.All(y, v => Assert.Equal(0f, v));
        }
    }

    [Fact]
    public void TensorCodec_ClearErrors()
    {
        var blocks = Assert.Throws<ArgumentException>(() => TensorCodec.Encode(GgmlType.Q8_0, new float[33], new byte[34]));
        Assert.Contains("Q8_0", blocks.Message, StringComparison.Ordinal);
        Assert.Contains("33", blocks.Message, StringComparison.Ordinal);

        var dst = Assert.Throws<ArgumentException>(() => TensorCodec.Encode(GgmlType.TQ2_0, new float[256], new byte[65]));
        Assert.Contains("TQ2_0", dst.Message, StringComparison.Ordinal);
        Assert.Contains("66 bytes", dst.Message, StringComparison.Ordinal);
        Assert.Contains("65", dst.Message, StringComparison.Ordinal);

        var src = Assert.Throws<ArgumentException>(() => TensorCodec.Decode(GgmlType.Q6_K, new byte[209], new float[256]));
        Assert.Contains("Q6_K", src.Message, StringComparison.Ordinal);
        Assert.Contains("210", src.Message, StringComparison.Ordinal);

        var type = Assert.Throws<ArgumentException>(() => TensorCodec.Encode(GgmlType.IQ2_XXS, new float[256], new byte[66]));
        Assert.Contains("IQ2_XXS", type.Message, StringComparison.Ordinal);
        Assert.False(TensorCodec.CanEncode(GgmlType.Q5_K));
        Assert.True(TensorCodec.CanDecode(GgmlType.I2_S));

        var f16 = Assert.Throws<ArgumentException>(() => F16Format.Decode(new byte[5], new float[3]));
        Assert.Contains("6 bytes", f16.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(GgmlType.F32)]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.BF16)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q6_K)]
    [InlineData(GgmlType.TQ1_0)]
    [InlineData(GgmlType.TQ2_0)]
    [InlineData(GgmlType.I2_S)]
    public void ByteSizeAgreesWithTheGgmlTypeTable(GgmlType type)
    {
        long[] shape = [768, 5];
        Assert.Equal(GgmlTypeTraits.TensorByteSize(type, shape), TensorCodec.ByteSize(type, 768 * 5));
    }
}
