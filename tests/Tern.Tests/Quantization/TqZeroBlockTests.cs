using System.Buffers.Binary;
using Tern.Quantization;

namespace Tern.Tests.Quantization;

/// <summary>llama.cpp's TQ quantizers store d = max|x| per block, so a block of zeros has d = 0; Tern writes the same bytes.</summary>
public class TqZeroBlockTests
{
    [Fact]
    public void AllZeroBlocksGetAZeroScaleAndOthersTheTensorScale()
    {
        var values = new sbyte[512];
        values[256 + 7] = -1;
        values[256 + 200] = 1;

        var tq2 = new byte[TQ2_0Format.ByteSize(512)];
        TQ2_0Format.EncodeTernary(values, 0.5f, tq2);
        // block_tq2_0: 64 bytes of codes, then the fp16 scale at offset 64.
        Assert.Equal((Half)0f, BinaryPrimitives.ReadHalfLittleEndian(tq2.AsSpan(64)));
        Assert.Equal((Half)0.5f, BinaryPrimitives.ReadHalfLittleEndian(tq2.AsSpan(66 + 64)));

        var tq1 = new byte[TQ1_0Format.ByteSize(512)];
        TQ1_0Format.EncodeTernary(values, 0.5f, tq1);
        // block_tq1_0: 48 + 4 bytes of codes, then the fp16 scale at offset 52.
        Assert.Equal((Half)0f, BinaryPrimitives.ReadHalfLittleEndian(tq1.AsSpan(52)));
        Assert.Equal((Half)0.5f, BinaryPrimitives.ReadHalfLittleEndian(tq1.AsSpan(54 + 52)));

        // The values survive, and the zero block does not stop the tensor from having one scale.
        var decoded = TernaryCodec.DecodeTernary(Tern.Gguf.GgmlType.TQ1_0, tq1, 512);
        Assert.Equal(values, decoded.Values);
        Assert.True(decoded.TryGetUniformScale(out float scale));
        Assert.Equal(0.5f, scale);
    }
}
