using System.Buffers.Binary;
using Tern.Gguf;
using Tern.Quantization;

namespace Tern.Tests.Quantization;

public class TernaryFormatTests
{
    private static sbyte[] RandomTernary(int n, int seed)
    {
        var rng = new Random(seed);
        var v = new sbyte[n];
        for (int i = 0; i < n; i++)
            v[i] = (sbyte)(rng.Next(3) - 1);
        return v;
    }

    [Fact]
    public void I2S_OneBlockBuiltByHand()
    {
        // 128 values, all 0 (code 01) except e0 = +1, e33 = −1, e64 = −1, e127 = +1.
        // Byte j holds e[j], e[j+32], e[j+64], e[j+96] in bits 7-6, 5-4, 3-2, 1-0:
        //   byte 0  = e0 (10) e32 (01) e64 (00) e96 (01)   = 1001_0001 = 0x91
        //   byte 1  = e1 (01) e33 (00) e65 (01) e97 (01)   = 0100_0101 = 0x45
        //   byte 31 = e31 (01) e63 (01) e95 (01) e127 (10) = 0101_0110 = 0x56
        //   every other byte = 0101_0101 = 0x55
        // then the float32 scale 0.5 (00 00 00 3F) at byte 128/4 = 32 and 28 zero bytes: 64 = 128/4 + 32 bytes.
        var v = new sbyte[128];
        v[0] = 1; v[33] = -1; v[64] = -1; v[127] = 1;
        var expected = new byte[64];
        expected.AsSpan(0, 32).Fill(0x55);
        expected[0] = 0x91; expected[1] = 0x45; expected[31] = 0x56;
        expected[32] = 0x00; expected[33] = 0x00; expected[34] = 0x00; expected[35] = 0x3F;

        var bytes = new byte[I2SFormat.ByteSize(128)];
        I2SFormat.Encode(v, 0.5f, bytes);
        Assert.Equal(expected, bytes);

        var back = new sbyte[128];
        Assert.Equal(0.5f, I2SFormat.Decode(bytes, back));
        Assert.Equal(v, back);

        var floats = new float[128];
        I2SFormat.Decode(bytes, floats);
        Assert.Equal(0.5f, floats[0]);
        Assert.Equal(-0.5f, floats[33]);
        Assert.Equal(0f, floats[1]);
    }

    [Fact]
    public void I2S_UnusedCode3ReadsAsZero()
    {
        var bytes = new byte[I2SFormat.ByteSize(128)];
        bytes.AsSpan(0, 32).Fill(0xFF);
        var v = new sbyte[128];
        I2SFormat.Decode(bytes, v);
        Assert.All(v, x => Assert.Equal(0, x));
    }

    [Theory]
    [InlineData(128L, 64L)]
    [InlineData(256L, 96L)]
    [InlineData(2560L * 2560, 2560L * 640 + 32)]
    [InlineData(6912L * 2560, 6912L * 640 + 32)]
    public void I2S_SizeIsQuarterPlus32(long n, long bytes)
    {
        Assert.Equal(bytes, I2SFormat.ByteSize(n));
        Assert.Equal(bytes, TernaryCodec.ByteSize(GgmlType.I2_S, n));
        Assert.Equal(bytes, TensorCodec.ByteSize(GgmlType.I2_S, n));
        Assert.Equal(bytes, GgmlTypeTraits.TensorByteSize(GgmlType.I2_S, [n]));
    }

    [Fact]
    public void TQ2_0_OneBlockBuiltByHand()
    {
        // 256 values, all 0 (code 01) except e0 = +1, e1 = −1, e32 = −1, e200 = +1; d = 0.25 (fp16 0x3400).
        // Each half of qs (32 bytes) covers 128 values; byte m holds m, m+32, m+64, m+96 in bits 1-0, 3-2, 5-4, 7-6:
        //   byte 0  = e96 (01) e64 (01) e32 (00) e0 (10) read from bit 7 down = 0101_0010 = 0x52
        //   byte 1  = e97 (01) e65 (01) e33 (01) e1 (00)                      = 0101_0100 = 0x54
        //   e200 is value 72 of the second half: byte 32 + 72 % 32 = 40, field 72 / 32 = 2 (bits 5-4)
        //   byte 40 = 01 10 01 01 = 0x65; all other bytes 0x55; then d little-endian: 00 34.
        var v = new sbyte[256];
        v[0] = 1; v[1] = -1; v[32] = -1; v[200] = 1;
        var expected = new byte[66];
        expected.AsSpan(0, 64).Fill(0x55);
        expected[0] = 0x52; expected[1] = 0x54; expected[40] = 0x65;
        expected[64] = 0x00; expected[65] = 0x34;

        var bytes = new byte[66];
        TQ2_0Format.EncodeTernary(v, [0.25f], bytes);
        Assert.Equal(expected, bytes);

        var back = new sbyte[256];
        var scales = new float[1];
        TQ2_0Format.DecodeTernary(bytes, back, scales);
        Assert.Equal(v, back);
        Assert.Equal(0.25f, scales[0]);

        // The float encoder of llama.cpp (d = max|x|, t = round(x/d)) gives the same block for 0.25·v.
        var x = new float[256];
        for (int i = 0; i < 256; i++)
            x[i] = v[i] * 0.25f;
        var fromFloats = new byte[66];
        TQ2_0Format.Encode(x, fromFloats);
        Assert.Equal(expected, fromFloats);
    }

    [Fact]
    public void TQ2_0_Code3IsRejectedByTheTernaryDecoder()
    {
        var bytes = new byte[66];
        bytes.AsSpan(0, 64).Fill(0x55);
        bytes[5] = 0x57; // element 5 gets code 11
        var ex = Assert.Throws<InvalidDataException>(() => TQ2_0Format.DecodeTernary(bytes, new sbyte[256], new float[1]));
        Assert.Contains("element 5", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TQ1_0_OneBlockBuiltByHand()
    {
        // 256 values, all 0 except e0 = +1, e32 = −1, e160 = +1, e240 = −1, e255 = +1; d = 1 (fp16 0x3C00).
        // A byte packs trits t+1 base 3, first value most significant, stored as ⌈v·256/243⌉ = (v·256 + 242) / 243.
        //   qs[0] holds e0, e32, e64, e96, e128 = 2,0,1,1,1 → v = 162+0+9+3+1 = 175 → (44800+242)/243 = 185
        //   qs[m] all zero (1,1,1,1,1) → v = 121 → (30976+242)/243 = 128
        //   qs[32] holds e160, e176, e192, e208, e224 = 2,1,1,1,1 → v = 202 → (51712+242)/243 = 213
        //   qh[j] holds e(240+j), e(244+j), e(248+j), e(252+j) and a fifth trit 0:
        //   qh[0] = 0,1,1,1 → v = 13·3 = 39 → (9984+242)/243 = 42
        //   qh[3] = 1,1,1,2 → v = 41·3 = 123 → (31488+242)/243 = 130
        //   qh[1], qh[2] = 1,1,1,1 → v = 40·3 = 120 → (30720+242)/243 = 127
        //   then d little-endian: 00 3C.
        var v = new sbyte[256];
        v[0] = 1; v[32] = -1; v[160] = 1; v[240] = -1; v[255] = 1;
        var expected = new byte[54];
        expected.AsSpan(0, 48).Fill(128);
        expected[0] = 185; expected[32] = 213;
        expected[48] = 42; expected[49] = 127; expected[50] = 127; expected[51] = 130;
        expected[52] = 0x00; expected[53] = 0x3C;

        var bytes = new byte[54];
        TQ1_0Format.EncodeTernary(v, [1f], bytes);
        Assert.Equal(expected, bytes);

        // Reading back: trit k of byte b is ((b·3ᵏ mod 256)·3) >> 8, e.g. qs[0] = 185: k=0 → 555>>8 = 2 (+1),
        // k=1 → 555 mod 256 = 43 → 129>>8 = 0 (−1), k=2 → 1665 mod 256 = 129 → 387>>8 = 1 (0).
        var back = new sbyte[256];
        var scales = new float[1];
        TQ1_0Format.DecodeTernary(bytes, back, scales);
        Assert.Equal(v, back);
        Assert.Equal(1f, scales[0]);

        var fromFloats = new byte[54];
        var x = new float[256];
        for (int i = 0; i < 256; i++)
            x[i] = v[i];
        TQ1_0Format.Encode(x, fromFloats);
        Assert.Equal(expected, fromFloats);
    }

    [Fact]
    public void TQ1_0_EveryByteDecodesToTernaryAndPackingInvertsIt()
    {
        // All 3⁵ = 243 five-trit patterns survive pack → unpack.
        var v = new sbyte[256];
        for (int p = 0; p < 243; p++)
        {
            int rest = p;
            for (int n = 4; n >= 0; n--)
            {
                v[n * 32] = (sbyte)((rest % 3) - 1);
                rest /= 3;
            }

            var bytes = new byte[54];
            TQ1_0Format.EncodeTernary(v, [1f], bytes);
            var back = new sbyte[256];
            TQ1_0Format.DecodeTernary(bytes, back, new float[1]);
            Assert.Equal(v, back);
        }
    }

    public static TheoryData<GgmlType, int, int> TernaryShapes()
    {
        var data = new TheoryData<GgmlType, int, int>();
        foreach (int rows in new[] { 1, 3, 7, 17 })
        {
            foreach (int rowLength in new[] { 256, 768, 2560 })
            {
                data.Add(GgmlType.I2_S, rows, rowLength);
                data.Add(GgmlType.TQ2_0, rows, rowLength);
                data.Add(GgmlType.TQ1_0, rows, rowLength);
            }

            data.Add(GgmlType.I2_S, rows, 128);
            data.Add(GgmlType.I2_S, rows, 384);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(TernaryShapes))]
    public void Ternary_RoundTripKeepsValuesAndScale(GgmlType type, int rows, int rowLength)
    {
        int n = rows * rowLength;
        var v = RandomTernary(n, seed: rows * 7919 + rowLength);
        const float scale = 0.0146484375f; // 15/1024: exact in fp16
        var bytes = new byte[TernaryCodec.ByteSize(type, n)];
        TernaryCodec.EncodeTernary(type, v, scale, bytes, rowLength);

        var t = TernaryCodec.DecodeTernary(type, bytes, n);
        Assert.Equal(v, t.Values);
        Assert.True(t.TryGetUniformScale(out float back));
        Assert.Equal(scale, back);

        var floats = new float[n];
        TensorCodec.Decode(type, bytes, floats);
        for (int i = 0; i < n; i++)
            Assert.Equal(v[i] * scale, floats[i]);
    }

    [Theory]
    [InlineData(GgmlType.TQ2_0)]
    [InlineData(GgmlType.TQ1_0)]
    public void TQ_PerBlockScalesRoundTrip(GgmlType type)
    {
        const int n = 7 * 256;
        var v = RandomTernary(n, seed: 42);
        var rng = new Random(43);
        var scales = new float[7];
        for (int b = 0; b < scales.Length; b++)
            scales[b] = (float)(Half)(rng.NextDouble() * 0.1); // fp16-representable by construction

        var bytes = new byte[TernaryCodec.ByteSize(type, n)];
        var backValues = new sbyte[n];
        var backScales = new float[7];
        if (type == GgmlType.TQ2_0)
        {
            TQ2_0Format.EncodeTernary(v, scales, bytes);
            TQ2_0Format.DecodeTernary(bytes, backValues, backScales);
        }
        else
        {
            TQ1_0Format.EncodeTernary(v, scales, bytes);
            TQ1_0Format.DecodeTernary(bytes, backValues, backScales);
        }

        Assert.Equal(v, backValues);
        Assert.Equal(scales, backScales);
        Assert.False(TernaryCodec.DecodeTernary(type, bytes, n).TryGetUniformScale(out _));
    }

    [Fact]
    public void LosslessChain_I2S_TQ2_TQ1_I2S_IsByteForByte()
    {
        const int n = 3 * 2560;
        var v = RandomTernary(n, seed: 7);
        const float scale = 0.3125f;
        Assert.True(F16Format.IsExactInHalf(scale));

        var i2s = new byte[TernaryCodec.ByteSize(GgmlType.I2_S, n)];
        TernaryCodec.EncodeTernary(GgmlType.I2_S, v, scale, i2s, 2560);

        var tq2 = new byte[TernaryCodec.ByteSize(GgmlType.TQ2_0, n)];
        TernaryCodec.EncodeTernary(GgmlType.TQ2_0, TernaryCodec.DecodeTernary(GgmlType.I2_S, i2s, n), tq2);
        var tq1 = new byte[TernaryCodec.ByteSize(GgmlType.TQ1_0, n)];
        TernaryCodec.EncodeTernary(GgmlType.TQ1_0, TernaryCodec.DecodeTernary(GgmlType.TQ2_0, tq2, n), tq1);
        var again = new byte[i2s.Length];
        TernaryCodec.EncodeTernary(GgmlType.I2_S, TernaryCodec.DecodeTernary(GgmlType.TQ1_0, tq1, n), again);

        Assert.Equal(i2s, again);

        // TQ files written directly from the values are the same bytes as the converted ones.
        var tq1Direct = new byte[tq1.Length];
        TernaryCodec.EncodeTernary(GgmlType.TQ1_0, v, scale, tq1Direct);
        Assert.Equal(tq1Direct, tq1);
    }

    [Fact]
    public void IsExactInHalf_TellsWhichScalesSurviveTQ()
    {
        Assert.True(F16Format.IsExactInHalf(0.3125f));
        Assert.True(F16Format.IsExactInHalf(0f));
        Assert.False(F16Format.IsExactInHalf(0.1f));
        Assert.False(F16Format.IsExactInHalf(1e-8f)); // below fp16's smallest subnormal
        Assert.False(F16Format.IsExactInHalf(float.NaN));
    }

    [Fact]
    public void UniformScale_IgnoresAllZeroBlocks()
    {
        var values = new sbyte[3 * 256];
        values[0] = 1;
        values[600] = -1;
        var t = new TernaryTensor(values, [0.5f, 9f, 0.5f], 256);
        Assert.True(t.TryGetUniformScale(out float s));
        Assert.Equal(0.5f, s);

        values[300] = 1;
        Assert.False(t.TryGetUniformScale(out _));

        var zeros = new TernaryTensor(new sbyte[512], [0.25f, 4f], 256);
        Assert.True(zeros.TryGetUniformScale(out float z));
        Assert.Equal(0.25f, z);
    }

    [Fact]
    public void TernaryCodec_ClearErrors()
    {
        var notTernary = Assert.Throws<ArgumentException>(() => TernaryCodec.EncodeTernary(GgmlType.F16, new sbyte[256], 1f, new byte[512]));
        Assert.Contains("not a ternary type", notTernary.Message, StringComparison.Ordinal);

        var row = Assert.Throws<ArgumentException>(() => TernaryCodec.EncodeTernary(GgmlType.TQ2_0, new sbyte[512], 1f, new byte[132], 128));
        Assert.Contains("row of 128", row.Message, StringComparison.Ordinal);

        var count = Assert.Throws<ArgumentException>(() => TernaryCodec.EncodeTernary(GgmlType.I2_S, new sbyte[200], 1f, new byte[82]));
        Assert.Contains("200", count.Message, StringComparison.Ordinal);

        var dst = Assert.Throws<ArgumentException>(() => TernaryCodec.EncodeTernary(GgmlType.TQ1_0, new sbyte[256], 1f, new byte[53]));
        Assert.Contains("54 bytes", dst.Message, StringComparison.Ordinal);
        Assert.Contains("53", dst.Message, StringComparison.Ordinal);

        var src = Assert.Throws<InvalidDataException>(() => TernaryCodec.DecodeTernary(GgmlType.I2_S, new byte[63], 128));
        Assert.Contains("I2_S", src.Message, StringComparison.Ordinal);
        Assert.Contains("64 bytes", src.Message, StringComparison.Ordinal);

        var value = new sbyte[128];
        value[5] = 2;
        var bad = Assert.Throws<ArgumentException>(() => I2SFormat.Encode(value, 1f, new byte[64]));
        Assert.Contains("index 5", bad.Message, StringComparison.Ordinal);

        var mixed = new TernaryTensor(Enumerable.Repeat((sbyte)1, 512).ToArray(), [1f, 2f], 256);
        var mixedEx = Assert.Throws<ArgumentException>(() => TernaryCodec.EncodeTernary(GgmlType.I2_S, mixed, new byte[160]));
        Assert.Contains("different scales", mixedEx.Message, StringComparison.Ordinal);
    }
}
