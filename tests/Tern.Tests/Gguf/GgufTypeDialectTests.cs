using Tern.Gguf;

namespace Tern.Tests.Gguf;

public class GgufTypeDialectTests
{
    private static string WriteWithRawType(TempFolder dir, string arch, uint typeId, long[] shape, long byteSize)
    {
        // The writer only knows Tern's logical types; write a placeholder type, then patch the id in the header.
        var m = new GgufMetadata();
        m.Add(GgufKeys.Architecture, GgufValue.FromString(arch));
        var writer = new GgufWriter(m);
        writer.AddTensor(new GgufTensorSource("w", GgmlType.I8, [byteSize], byteSize, s => s.Write(new byte[byteSize])));
        writer.AddTensor("tail", GgmlType.F32, [8], new byte[32]);
        string path = dir.File($"{arch}-{typeId}.gguf");
        writer.Write(path);

        var bytes = File.ReadAllBytes(path);
        using var file = GgufFile.Open(path);
        // Rebuild with the real shape and type id: find the tensor info for "w" (name bytes then n_dims).
        int at = IndexOf(bytes, "\u0001\0\0\0\0\0\0\0w"u8.ToArray()) + 9;
        Assert.Equal(1u, BitConverter.ToUInt32(bytes, at));
        Assert.Single(shape);
        BitConverter.TryWriteBytes(bytes.AsSpan(at + 4), (ulong)shape[0]);
        BitConverter.TryWriteBytes(bytes.AsSpan(at + 12), typeId);
        file.Dispose();
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
        {
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle))
                return i;
        }

        throw new InvalidOperationException("not found");
    }

    [Fact]
    public void Id36SizedAsI2SIsReadAsI2S()
    {
        using var dir = new TempFolder();
        // 512 elements as I2_S = 128 + 32 bytes; upstream's IQ4_NL_4_4 would need 512/32·18 = 288 bytes.
        string path = WriteWithRawType(dir, "llama", 36, [512], 160);
        using var file = GgufFile.Open(path);
        Assert.Equal(GgmlType.I2_S, file.GetTensor("w").Type);
        Assert.Equal(GgmlTypeDialect.BitNetCpp, file.Dialect);
        Assert.Contains("fit that layout and not upstream", file.DialectReason);
    }

    [Fact]
    public void Id39SizedAsMxfp4IsReadAsUpstream()
    {
        using var dir = new TempFolder();
        // 1024 elements as MXFP4 = 32 blocks · 17 = 544 bytes; TL2's size is unknown, so both fit; arch decides.
        string path = WriteWithRawType(dir, "gpt-oss", 39, [1024], 544);
        using var file = GgufFile.Open(path);
        Assert.Equal(GgmlType.MXFP4, file.GetTensor("w").Type);
        Assert.Equal(GgmlTypeDialect.Upstream, file.Dialect);
        Assert.Contains("gpt-oss", file.DialectReason);
    }

    [Fact]
    public void Id39InABitnetFileIsReadAsTL2()
    {
        using var dir = new TempFolder();
        string path = WriteWithRawType(dir, "bitnet-b1.58", 39, [1024], 544);
        using var file = GgufFile.Open(path);
        Assert.Equal(GgmlType.TL2, file.GetTensor("w").Type);
        Assert.Equal(GgmlTypeDialect.BitNetCpp, file.Dialect);
    }

    [Fact]
    public void TheCallerCanForceTheReading()
    {
        using var dir = new TempFolder();
        string path = WriteWithRawType(dir, "bitnet-b1.58", 39, [1024], 544);
        using var file = GgufFile.Open(path, new GgufReadOptions { Dialect = GgmlTypeDialect.Upstream });
        Assert.Equal(GgmlType.MXFP4, file.GetTensor("w").Type);
    }

    [Fact]
    public void TypeTableMatchesGgmlForTheFormatsTernUses()
    {
        // Values from ggml's type_traits (blck_size, type_size) and bitnet.cpp's I2_S special case.
        Assert.Equal((32, 34), Pair(GgmlType.Q8_0));
        Assert.Equal((32, 18), Pair(GgmlType.Q4_0));
        Assert.Equal((256, 144), Pair(GgmlType.Q4_K));
        Assert.Equal((256, 210), Pair(GgmlType.Q6_K));
        Assert.Equal((256, 54), Pair(GgmlType.TQ1_0));
        Assert.Equal((256, 66), Pair(GgmlType.TQ2_0));
        Assert.Equal((1, 2), Pair(GgmlType.BF16));
        Assert.Equal((32, 17), Pair(GgmlType.MXFP4));
        Assert.Equal((64, 36), Pair(GgmlType.NVFP4));
        Assert.Equal((128, 18), Pair(GgmlType.Q1_0));
        Assert.Equal((64, 18), Pair(GgmlType.Q2_0));
        Assert.True(GgmlTypeTraits.TryFromFileId(42, GgmlTypeDialect.BitNetCpp, out var q2) && q2 == GgmlType.Q2_0);
        Assert.False(GgmlTypeTraits.TryFromFileId(43, GgmlTypeDialect.Upstream, out _));
        foreach (long n in new long[] { 128, 256, 2560L * 6912, 4096 })
            Assert.Equal(n / 4 + 32, GgmlTypeTraits.TensorByteSize(GgmlType.I2_S, [n]));
        Assert.Equal(2560L * 6912 / 4 + 32, GgmlTypeTraits.TensorByteSize(GgmlType.I2_S, [2560, 6912]));
        Assert.Null(GgmlTypeTraits.TensorByteSize(GgmlType.TL2, [256]));
        Assert.True(GgmlTypeTraits.TryParse("i2_s", out var t) && t == GgmlType.I2_S);
        Assert.True(GgmlTypeTraits.TryParse("tq1_0", out t) && t == GgmlType.TQ1_0);
    }

    private static (int, int) Pair(GgmlType t) => (GgmlTypeTraits.Get(t).BlockSize, GgmlTypeTraits.Get(t).BytesPerBlock);
}
