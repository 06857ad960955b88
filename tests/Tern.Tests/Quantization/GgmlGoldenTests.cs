using System.Security.Cryptography;
using Tern.Gguf;
using Tern.Quantization;

namespace Tern.Tests.Quantization;

/// <summary>
/// Bit-exactness against the C reference: the hashes were produced by calling llama.cpp's own quantize_row_*_ref
/// (libggml-base.so, ggml-org/llama.cpp 34af94cd) and bitnet.cpp's quantize_i2_s (microsoft/BitNet 16da220, x86 build)
/// through ctypes on the same inputs built below.
/// </summary>
public class GgmlGoldenTests
{
    private const int N = 4096;

    // x[i] = float(((i·7919) mod 2001) − 1000) / 997, every 61st element ×9 (outliers exercise the scale searches);
    // each step is one IEEE float32 operation, so the C side reproduces it exactly.
    private static float[] Input()
    {
        var x = new float[N];
        for (int i = 0; i < N; i++)
        {
            float v = (float)((i * 7919 % 2001) - 1000) / 997f;
            if (i % 61 == 0)
                v *= 9f;
            x[i] = v;
        }

        return x;
    }

    [Theory]
    [InlineData(GgmlType.Q4_0, "b84e491dafbe739697c3fa02384d8d43a8a706575821f287a5b53713de244594")]
    [InlineData(GgmlType.Q8_0, "4bb9a1665eee47ffb48fbcf0a8d123ceb216a101562a9f77961334bc22eeb15c")]
    [InlineData(GgmlType.Q4_K, "6415f00265fab1e74d4d04b430d88f3cc58dc53f95777cf79dc24cf68ac183de")]
    [InlineData(GgmlType.Q6_K, "bce20fe254f418f180ef4941099f5b579158d8853df517adb13f04945ff501c9")]
    [InlineData(GgmlType.TQ1_0, "f3b5244e629c11a18bf78b6d4727ebea56ad03da08491b0721859c46b47e5701")]
    [InlineData(GgmlType.TQ2_0, "679d4a185e6e6c72d98a0cccb60a1afe17083a375f334b38ebd219f6889e0b5f")]
    [InlineData(GgmlType.BF16, "93e2912a4a6a630645f7e316484d195034918a037afba5af20e166c695f34b23")]
    public void EncodeMatchesLlamaCppReference(GgmlType type, string sha256)
    {
        var bytes = new byte[TensorCodec.ByteSize(type, N)];
        TensorCodec.Encode(type, Input(), bytes);
        Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }

    [Fact]
    public void I2SMatchesBitnetCppQuantizeI2S()
    {
        // quantize_i2_s(0.25·t, nrow 4, n_per_row 256) with t[i] = ((i·7919) mod 3) − 1: it takes max|x| as the scale,
        // so for already-ternary input it writes exactly what Encode(t, 0.25) writes.
        const int m = 1024;
        var t = new sbyte[m];
        for (int i = 0; i < m; i++)
            t[i] = (sbyte)((i * 7919 % 3) - 1);
        var bytes = new byte[I2SFormat.ByteSize(m)];
        I2SFormat.Encode(t, 0.25f, bytes);
        Assert.Equal("21c199318ad1d07ceed5d46d8a1a8b8b6df5d18732883336ef798850cf0ce16e", Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }
}
