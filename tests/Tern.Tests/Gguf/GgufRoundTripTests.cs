using Tern.Gguf;

namespace Tern.Tests.Gguf;

public class GgufRoundTripTests
{
    private static GgufMetadata EveryValueType()
    {
        var m = new GgufMetadata();
        m.Add("general.architecture", GgufValue.FromString("bitnet-b1.58"));
        m.Add("t.u8", GgufValue.FromUInt8(200));
        m.Add("t.i8", GgufValue.FromInt8(-100));
        m.Add("t.u16", GgufValue.FromUInt16(65000));
        m.Add("t.i16", GgufValue.FromInt16(-32000));
        m.Add("t.u32", GgufValue.FromUInt32(4_000_000_000));
        m.Add("t.i32", GgufValue.FromInt32(-2_000_000_000));
        m.Add("t.f32", GgufValue.FromFloat32(1.5e-5f));
        m.Add("t.bool", GgufValue.FromBool(true));
        m.Add("t.string", GgufValue.FromString("héllo ▁ 世界"));
        m.Add("t.u64", GgufValue.FromUInt64(ulong.MaxValue));
        m.Add("t.i64", GgufValue.FromInt64(long.MinValue));
        m.Add("t.f64", GgufValue.FromFloat64(Math.PI));
        m.Add("t.arr.u8", GgufValue.FromArray(new byte[] { 1, 2, 255 }));
        m.Add("t.arr.i8", GgufValue.FromArray(new sbyte[] { -1, 0, 1 }));
        m.Add("t.arr.u16", GgufValue.FromArray(new ushort[] { 7, 65535 }));
        m.Add("t.arr.i16", GgufValue.FromArray(new short[] { -7 }));
        m.Add("t.arr.u32", GgufValue.FromArray(new uint[] { 0, uint.MaxValue }));
        m.Add("t.arr.i32", GgufValue.FromArray(new[] { 1, -2, 3 }));
        m.Add("t.arr.f32", GgufValue.FromArray(new[] { 0.25f, -1e30f, float.Epsilon }));
        m.Add("t.arr.bool", GgufValue.FromArray(new[] { true, false, true }));
        m.Add("t.arr.string", GgufValue.FromArray(new[] { "<unk>", "", "▁the" }));
        m.Add("t.arr.u64", GgufValue.FromArray(new ulong[] { 1UL << 63 }));
        m.Add("t.arr.i64", GgufValue.FromArray(new long[] { -1, long.MaxValue }));
        m.Add("t.arr.f64", GgufValue.FromArray(new[] { 1.0 / 3 }));
        m.Add("t.arr.empty", GgufValue.FromArray(Array.Empty<int>()));
        m.Add("t.arr.nested", GgufValue.FromNestedArray(
        [
            GgufValue.FromArray(new[] { "a", "b" }),
            GgufValue.FromNestedArray([GgufValue.FromArray(new[] { 1, 2, 3 })]),
            GgufValue.FromArray(Array.Empty<float>()),
        ]));
        return m;
    }

    [Theory]
    [InlineData(32u)]
    [InlineData(64u)]
    [InlineData(1u)]
    public void EveryValueTypeAndTensorsSurviveAWriteAndARead(uint alignment)
    {
        using var dir = new TempFolder();
        var metadata = EveryValueType();
        if (alignment != GgufFile.DefaultAlignment)
            metadata.Add(GgufKeys.Alignment, GgufValue.FromUInt32(alignment));

        var rng = new Random(1234);
        var f32 = new byte[7 * 3 * 4];
        var q80 = new byte[2 * 34];
        var i2s = new byte[(256 * 3 / 4) + 32];
        rng.NextBytes(f32);
        rng.NextBytes(q80);
        rng.NextBytes(i2s);

        var writer = new GgufWriter(metadata);
        writer.AddTensor("a.f32", GgmlType.F32, [7, 3], f32);
        writer.AddTensor("b.q8_0", GgmlType.Q8_0, [64], q80);
        writer.AddTensor("c.i2s", GgmlType.I2_S, [256, 3], s => s.Write(i2s));
        string path = dir.File("rt.gguf");
        var written = new List<string>();
        writer.Write(path, (i, t) => written.Add(t.Name));
        Assert.Equal(["a.f32", "b.q8_0", "c.i2s"], written);

        using var file = GgufFile.Open(path);
        Assert.Equal(3, file.Version);
        Assert.Equal(alignment, file.Alignment);
        Assert.Equal(metadata.Count, file.Metadata.Count);
        foreach (var (key, value) in metadata)
            Assert.Equal(value, file.Metadata[key]);
        Assert.Equal(metadata.Keys, file.Metadata.Keys);

        Assert.Equal(["a.f32", "b.q8_0", "c.i2s"], file.Tensors.Select(t => t.Name));
        var a = file.GetTensor("a.f32");
        Assert.Equal(GgmlType.F32, a.Type);
        Assert.Equal([7L, 3L], a.Shape);
        Assert.Equal(f32, file.GetTensorData(a).ToArray());
        Assert.Equal(q80, file.GetTensorData(file.GetTensor("b.q8_0")).ToArray());
        var c = file.GetTensor("c.i2s");
        Assert.Equal(GgmlType.I2_S, c.Type);
        Assert.Equal(256 * 3 / 4 + 32, c.ByteSize);
        Assert.Equal(i2s, file.GetTensorData(c).ToArray());
        Assert.Equal(GgmlTypeDialect.BitNetCpp, file.Dialect);
        Assert.True(file.UsesAmbiguousTypeIds);

        foreach (var t in file.Tensors)
        {
            Assert.Equal(0, (long)t.Offset % alignment);
            Assert.Equal(0, (file.DataOffset + (long)t.Offset) % alignment);
        }
    }

    [Fact]
    public void Version2FilesReadLikeVersion3()
    {
        // Version 3 only added big-endian files; a little-endian v2 file has the same layout.
        using var dir = TestData.NewTempFolder();
        var m = new GgufMetadata();
        m.Add(GgufKeys.Architecture, GgufValue.FromString("llama"));
        m.Add("llama.block_count", GgufValue.FromUInt32(2));
        var writer = new GgufWriter(m);
        writer.AddTensor("w", GgmlType.F32, [4], new byte[] { 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64 });
        string path = dir.File("v2.gguf");
        writer.Write(path);
        var bytes = File.ReadAllBytes(path);
        bytes[4] = 2;
        File.WriteAllBytes(path, bytes);

        using var file = GgufFile.Open(path);
        Assert.Equal(2, file.Version);
        Assert.Equal(2u, file.Metadata.GetUInt32("llama.block_count"));
        Assert.Equal([1f, 2f, 3f, 4f], System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(file.GetTensorData(file.GetTensor("w"))).ToArray());
    }

    [Fact]
    public void TheWrittenBytesFollowTheSpecByteForByte()
    {
        // A minimal file worked by hand from docs/gguf.md: header, one uint32 key, one F32 tensor of 2 elements.
        var m = new GgufMetadata();
        m.Add("k", GgufValue.FromUInt32(7));
        var writer = new GgufWriter(m);
        writer.AddTensor("w", GgmlType.F32, [2], new byte[] { 0, 0, 128, 63, 0, 0, 0, 64 });
        using var ms = new MemoryStream();
        writer.WriteTo(ms);
        byte[] expected =
        [
            (byte)'G', (byte)'G', (byte)'U', (byte)'F', 3, 0, 0, 0,
            1, 0, 0, 0, 0, 0, 0, 0, // tensor count
            1, 0, 0, 0, 0, 0, 0, 0, // kv count
            1, 0, 0, 0, 0, 0, 0, 0, (byte)'k', 4, 0, 0, 0, 7, 0, 0, 0,
            1, 0, 0, 0, 0, 0, 0, 0, (byte)'w', 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            // header is 74 bytes; pad to 96
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 128, 63, 0, 0, 0, 64,
            // the tensor is padded to the alignment too
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        Assert.Equal(expected, ms.ToArray());
    }

    [Fact]
    public void AFailingTensorWriterLeavesNoFileBehind()
    {
        using var dir = new TempFolder();
        string path = dir.File("out.gguf");
        File.WriteAllText(path, "previous content");
        var writer = new GgufWriter(new GgufMetadata());
        writer.AddTensor("a", GgmlType.F32, [4], s => s.Write(new byte[16]));
        writer.AddTensor("b", GgmlType.F32, [4], _ => throw new IOException("disk on fire"));
        Assert.Throws<IOException>(() => writer.Write(path));
        Assert.Equal("previous content", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void ATensorCallbackThatWritesTheWrongSizeIsCaught()
    {
        using var dir = new TempFolder();
        var writer = new GgufWriter(new GgufMetadata());
        writer.AddTensor("short", GgmlType.F16, [8], s => s.Write(new byte[15]));
        var e = Assert.Throws<InvalidOperationException>(() => writer.Write(dir.File("x.gguf")));
        Assert.Contains("short", e.Message);
        Assert.Contains("16", e.Message);
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void WriterRejectsShapesThatAreNotWholeBlocks()
    {
        var writer = new GgufWriter(new GgufMetadata());
        var e = Assert.Throws<FormatException>(() => writer.AddTensor("t", GgmlType.TQ2_0, [100, 2], _ => { }));
        Assert.Contains("256", e.Message);
    }
}
