using System.Buffers.Binary;
using Tern.Gguf;

namespace Tern.Tests.Gguf;

/// <summary>Bad files must end in one clear <see cref="InvalidDataException"/> naming the file: no crash, no hang, no huge allocation.</summary>
public class CorruptGgufTests
{
    private static byte[] SmallValidFile()
    {
        var m = new GgufMetadata();
        m.Add(GgufKeys.Architecture, GgufValue.FromString("bitnet-b1.58"));
        m.Add("bitnet-b1.58.block_count", GgufValue.FromUInt32(1));
        m.Add("tokenizer.ggml.tokens", GgufValue.FromArray(new[] { "<s>", "a", "b" }));
        m.Add("nested", GgufValue.FromNestedArray([GgufValue.FromArray(new[] { 1, 2 })]));
        var w = new GgufWriter(m);
        w.AddTensor("blk.0.attn_q.weight", GgmlType.I2_S, [128, 2], new byte[64 + 32]);
        w.AddTensor("output_norm.weight", GgmlType.F32, [16], new byte[64]);
        using var ms = new MemoryStream();
        w.WriteTo(ms);
        return ms.ToArray();
    }

    private static InvalidDataException OpenExpectingError(TempFolder dir, byte[] bytes, string name = "bad.gguf")
    {
        string path = dir.File(name);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => GgufFile.Open(path).Dispose());
        Assert.Contains(path, e.Message);
        return e;
    }

    [Fact]
    public void EveryTruncationIsReportedAsSuch()
    {
        using var dir = new TempFolder();
        var good = SmallValidFile();
        for (int length = 1; length < good.Length; length++)
        {
            var e = OpenExpectingError(dir, good[..length]);
            Assert.True(e.Message.Contains("truncated", StringComparison.Ordinal) || e.Message.Contains("past the end", StringComparison.Ordinal), $"length {length}: {e.Message}");
        }
    }

    [Fact]
    public void FourHundredRandomMutationsNeverCrashOrHang()
    {
        using var dir = new TempFolder();
        var good = SmallValidFile();
        var rng = new Random(20261122);
        string path = dir.File("mutant.gguf");
        int rejected = 0;
        for (int i = 0; i < 400; i++)
        {
            var bytes = (byte[])good.Clone();
            int flips = 1 + rng.Next(4);
            for (int f = 0; f < flips; f++)
            {
                int at = rng.Next(bytes.Length);
                bytes[at] = rng.Next(3) switch
                {
                    0 => (byte)rng.Next(256),
                    1 => 0xFF,
                    _ => (byte)(bytes[at] ^ (1 << rng.Next(8))),
                };
            }

            File.WriteAllBytes(path, bytes);
            try
            {
                using var file = GgufFile.Open(path);
                // A mutant that opens must still be self-consistent: every tensor's span lies inside the file.
                foreach (var t in file.Tensors)
                {
                    if (t.ByteSize <= int.MaxValue)
                        _ = file.GetTensorData(t).Length;
                    Assert.True(file.DataOffset + (long)t.Offset + t.ByteSize <= file.FileLength);
                }
            }
            catch (InvalidDataException e)
            {
                Assert.Contains(path, e.Message);
                rejected++;
            }
        }

        // Most single-byte damage lands in headers or strings and must be caught, not silently accepted.
        Assert.True(rejected > 100, $"only {rejected} of 400 mutants were rejected");
    }

    [Fact]
    public void BadMagicVersionAndEndianness()
    {
        using var dir = new TempFolder();
        var good = SmallValidFile();

        var b = (byte[])good.Clone();
        b[0] = (byte)'X';
        Assert.Contains("not a GGUF file", OpenExpectingError(dir, b).Message);

        b = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), 1);
        Assert.Contains("version 1 is not supported", OpenExpectingError(dir, b).Message);

        b = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), 3);
        Assert.Contains("big-endian", OpenExpectingError(dir, b).Message);

        Assert.Contains("empty", OpenExpectingError(dir, []).Message);
    }

    [Fact]
    public void AbsurdCountsAreRejectedBeforeAllocating()
    {
        using var dir = new TempFolder();
        var b = SmallValidFile();
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8), ulong.MaxValue / 3);
        Assert.Contains("tensor count", OpenExpectingError(dir, b).Message);

        b = SmallValidFile();
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(16), 1UL << 40);
        Assert.Contains("metadata count", OpenExpectingError(dir, b).Message);
    }

    [Fact]
    public void UnknownValueTypeAndUnknownTensorType()
    {
        using var dir = new TempFolder();
        var b = SmallValidFile();
        // First key: 8-byte length at 24, "general.architecture" (20 bytes), then its value type.
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(24 + 8 + 20), 13);
        var e = OpenExpectingError(dir, b);
        Assert.Contains("general.architecture", e.Message);
        Assert.Contains("unknown value type 13", e.Message);

        b = SmallValidFile();
        int name = IndexOf(b, "output_norm.weight"u8);
        // name, n_dims (4), one dim (8), then the type.
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(name + 18 + 4 + 8), 99);
        e = OpenExpectingError(dir, b);
        Assert.Contains("output_norm.weight", e.Message);
        Assert.Contains("unknown type id 99", e.Message);
    }

    [Fact]
    public void TensorOffsetsThatLieAreCaught()
    {
        using var dir = new TempFolder();
        var b = SmallValidFile();
        int name = IndexOf(b, "output_norm.weight"u8);
        int offsetAt = name + 18 + 4 + 8 + 4;
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(offsetAt), 1UL << 40);
        var e = OpenExpectingError(dir, b);
        Assert.Contains("output_norm.weight", e.Message);
        Assert.Contains("past the end", e.Message);

        b = SmallValidFile();
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(offsetAt), 8);
        Assert.Contains("not a multiple of the alignment", OpenExpectingError(dir, b).Message);

        b = SmallValidFile();
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(offsetAt), 64);
        Assert.Contains("overlaps", OpenExpectingError(dir, b).Message);
    }

    [Fact]
    public void ShapesThatAreNotWholeBlocksOrHaveTooManyDimensions()
    {
        using var dir = new TempFolder();
        var b = SmallValidFile();
        int name = IndexOf(b, "blk.0.attn_q.weight"u8);
        int dimsAt = name + 19;
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(dimsAt), 9);
        Assert.Contains("9 dimensions", OpenExpectingError(dir, b).Message);

        b = SmallValidFile();
        name = IndexOf(b, "output_norm.weight"u8);
        // Make the F32 tensor Q8_0 with 16 elements: not a whole 32-element block.
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(name + 18 + 4 + 8), 8);
        var e = OpenExpectingError(dir, b);
        Assert.Contains("output_norm.weight", e.Message);
        Assert.Contains("multiple of 32", e.Message);
    }

    [Fact]
    public void MissingFileAndDuplicateKeys()
    {
        using var dir = new TempFolder();
        Assert.Throws<FileNotFoundException>(() => GgufFile.Open(dir.File("absent.gguf")));

        var m = new GgufMetadata();
        m.Add("key.a", GgufValue.FromUInt32(1));
        m.Add("key.b", GgufValue.FromUInt32(2));
        using var ms = new MemoryStream();
        new GgufWriter(m).WriteTo(ms);
        var b = ms.ToArray();
        "key.a"u8.CopyTo(b.AsSpan(IndexOf(b, "key.b"u8)));
        Assert.Contains("'key.a' appears twice", OpenExpectingError(dir, b).Message);
    }

    private static int IndexOf(byte[] haystack, ReadOnlySpan<byte> needle) => haystack.AsSpan().IndexOf(needle);
}
