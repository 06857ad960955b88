using System.Buffers.Binary;
using System.Text;
using Tern.Formats;

namespace Tern.Tests.Formats;

public class SafetensorsTests
{
    [Fact]
    public void WriterRoundTripsEveryKindOfTensorAndMetadata()
    {
        using var tmp = TestData.NewTempFolder();
        string path = tmp.File("model.safetensors");
        float[] w = [0.3f, -0.7f, 0.5f, 0.1f, 1.0f / 3, 65504f];
        var writer = new SafetensorsWriter();
        writer.Metadata["format"] = "pt";
        writer.Add("w.f32", w, [2, 3])
              .Add("w.f16", w, [2, 3], SafetensorsDType.F16)
              .Add("w.bf16", w, [3, 2], SafetensorsDType.BF16)
              .Add("norm", [1f, 2f, 3f], [3])
              .Add("codes", new byte[] { 0, 1, 2, 255 }, [2, 2])
              .Add("tern", new sbyte[] { -1, 0, 1, 1 }, [4])
              .Add("empty", Array.Empty<float>(), [0, 5]);
        writer.Write(path);

        using var f = SafetensorsFile.Open(path);
        Assert.Equal(["w.f32", "w.f16", "w.bf16", "norm", "codes", "tern", "empty"], f.Tensors.Select(t => t.Name));
        Assert.Equal("pt", f.Metadata["format"]);
        Assert.Equal(0, (8 + new FileInfo(path).Length - f.DataLength) % 8); // data section 8-aligned

        var t32 = f.GetTensor("w.f32");
        Assert.Equal(SafetensorsDType.F32, t32.DType);
        Assert.Equal([2L, 3L], t32.Shape);
        Assert.Equal(24, t32.ByteSize);
        var all = new float[6];
        f.ReadRowsAsFloat(t32, 0, 2, all);
        Assert.Equal(w, all);
        var row1 = new float[3];
        f.ReadRowsAsFloat(t32, 1, 1, row1);
        Assert.Equal(w[3..], row1);
        Assert.Equal(BitConverter.GetBytes(w[1]), f.ReadBytes(t32, 4, 4));

        f.ReadRowsAsFloat(f.GetTensor("w.f16"), 0, 2, all);
        Assert.Equal(w.Select(x => (float)(Half)x), all);

        var tbf = f.GetTensor("w.bf16");
        Assert.Equal(3, tbf.RowCount);
        Assert.Equal(2, tbf.RowLength);
        f.ReadRowsAsFloat(tbf, 0, 3, all);
        // bf16 keeps 8 significant bits: 0.3 → 0.30078125, 1/3 → 0.333984375, 65504 → 65536 (round to nearest even).
        Assert.Equal([0.30078125f, -0.69921875f, 0.5f, 0.10009765625f, 0.333984375f, 65536f], all);

        var norm = f.GetTensor("norm");
        Assert.Equal(1, norm.RowCount);
        var n = new float[3];
        f.ReadRowsAsFloat(norm, 0, 1, n);
        Assert.Equal([1f, 2f, 3f], n);

        var codes = new float[4];
        f.ReadRowsAsFloat(f.GetTensor("codes"), 0, 2, codes);
        Assert.Equal([0f, 1f, 2f, 255f], codes);
        f.ReadRowsAsFloat(f.GetTensor("tern"), 0, 1, codes);
        Assert.Equal([-1f, 0f, 1f, 1f], codes);

        var empty = f.GetTensor("empty");
        Assert.Equal(0, empty.ByteSize);
        f.ReadRowsAsFloat(empty, 0, 0, Span<float>.Empty);
    }

    [Fact]
    public void ReadingOutsideATensorOrAfterDisposeFails()
    {
        using var tmp = TestData.NewTempFolder();
        string path = tmp.File("a.safetensors");
        new SafetensorsWriter().Add("a", [1f, 2f, 3f, 4f], [2, 2]).Write(path);
        var f = SafetensorsFile.Open(path);
        var a = f.GetTensor("a");
        Assert.Throws<ArgumentOutOfRangeException>(() => f.ReadRowsAsFloat(a, 1, 2, new float[4]));
        Assert.Throws<ArgumentException>(() => f.ReadRowsAsFloat(a, 0, 2, new float[3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => f.ReadBytes(a, 12, 8).Length);
        Assert.Throws<KeyNotFoundException>(() => f.GetTensor("b"));
        f.Dispose();
        Assert.Throws<ObjectDisposedException>(() => f.ReadBytes(a, 0, 4).Length);
    }

    [Fact]
    public void Float8AndWideTypesConvert()
    {
        var dst = new float[5];
        // E4M3: 0x38 = 1.0, 0xB8 = -1.0, 0x7E = 448 (largest), 0x01 = 2^-9 (smallest subnormal), 0x7F = NaN.
        FloatConversion.ToFloat32(SafetensorsDType.F8_E4M3, [0x38, 0xB8, 0x7E, 0x01, 0x7F], dst);
        Assert.Equal([1f, -1f, 448f, 1f / 512], dst[..4]);
        Assert.True(float.IsNaN(dst[4]));
        // E5M2: 0x3C = 1.0, 0xC0 = -2.0, 0x7B = 57344, 0x7C = +inf, 0x01 = 2^-16.
        FloatConversion.ToFloat32(SafetensorsDType.F8_E5M2, [0x3C, 0xC0, 0x7B, 0x7C, 0x01], dst);
        Assert.Equal([1f, -2f, 57344f, float.PositiveInfinity, 1f / 65536], dst);
        var d = new byte[16];
        BinaryPrimitives.WriteDoubleLittleEndian(d, 0.1);
        BinaryPrimitives.WriteInt64LittleEndian(d.AsSpan(8), -5);
        FloatConversion.ToFloat32(SafetensorsDType.F64, d.AsSpan(0, 8), dst.AsSpan(0, 1));
        FloatConversion.ToFloat32(SafetensorsDType.I64, d.AsSpan(8), dst.AsSpan(1, 1));
        Assert.Equal([0.1f, -5f], dst[..2]);
        Assert.Equal(0x7FC0, FloatConversion.Float32ToBFloat16(float.NaN) & 0x7FC0);
        Assert.Equal(0x3F80, FloatConversion.Float32ToBFloat16(1f));
    }

    /// <summary>Writes a file with a hand-made header (no padding) and <paramref name="dataLength"/> data bytes.</summary>
    private static void WriteRaw(string path, string json, int dataLength, ulong? declaredLength = null)
    {
        var header = Encoding.UTF8.GetBytes(json);
        using var fs = File.Create(path);
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, declaredLength ?? (ulong)header.Length);
        fs.Write(prefix);
        fs.Write(header);
        fs.Write(new byte[dataLength]);
    }

    public static TheoryData<string, int, string[]> LyingHeaders => new()
    {
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]", 8, ["not valid JSON"] },
        { "[1,2]", 0, ["not an object"] },
        { "{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, ["'a'", "'dtype'"] },
        { "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, ["'a'", "'shape'"] },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, ["'a'", "'data_offsets'"] },
        { "{\"a\":{\"dtype\":\"F7\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, ["'a'", "unknown dtype 'F7'"] },
        { "{\"a\":{\"dtype\":7,\"shape\":[2],\"data_offsets\":[0,8]}}", 8, ["'a'", "'dtype'"] },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, ["'a'", "'shape[0]'"] },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, ["'a'", "begin 8 is after end 0"] },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, ["'a'", "past the end of the data"] },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, ["'a'", "needs 12"] },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8, ["'a'", "'data_offsets'"] },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,-8]}}", 8, ["'a'", "'data_offsets[1]'"] },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, ["'b'", "overlaps", "'a'"] },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,8]}}", 8, ["'a'", "64-bit"] },
        { "{\"a\":{\"dtype\":\"F64\",\"shape\":[4611686018427387904],\"data_offsets\":[0,8]}}", 8, ["'a'", "64-bit"] },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, ["'a'", "twice"] },
        { "{\"__metadata__\":{\"format\":1}}", 0, ["__metadata__.format", "not a string"] },
    };

    [Theory]
    [MemberData(nameof(LyingHeaders))]
    public void AHeaderThatLiesIsRefusedWithTheFileAndTheFieldNamed(string json, int dataLength, string[] expected)
    {
        using var tmp = TestData.NewTempFolder();
        string path = tmp.File("lies.safetensors");
        WriteRaw(path, json, dataLength);
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        foreach (var fragment in expected)
            Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1000UL, "past the end of the file")]
    [InlineData(200_000_000UL, "100 MB")]
    [InlineData(ulong.MaxValue, "100 MB")]
    public void AnAbsurdHeaderLengthIsRefused(ulong declared, string expected)
    {
        using var tmp = TestData.NewTempFolder();
        string path = tmp.File("len.safetensors");
        WriteRaw(path, "{}", 0, declared);
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AFileShorterThanTheLengthPrefixIsRefused()
    {
        using var tmp = TestData.NewTempFolder();
        string path = tmp.File("short.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WriterRefusesInconsistentInput()
    {
        var w = new SafetensorsWriter();
        Assert.Throws<ArgumentException>(() => w.Add("a", [1f, 2f], [3]));
        w.Add("a", [1f, 2f, 3f], [3]); // the failed Add above must not have taken the name
        Assert.Throws<ArgumentException>(() => w.Add("a", [1f], [1]));
        Assert.Throws<ArgumentException>(() => w.Add("b", [1f], [1], SafetensorsDType.I8));
        Assert.Throws<ArgumentException>(() => w.Add("__metadata__", [1f], [1]));

        using var tmp = TestData.NewTempFolder();
        string path = tmp.File("bad.safetensors");
        w.AddStreaming("c", SafetensorsDType.F32, [4], s => s.Write(new byte[8]));
        Assert.Throws<InvalidOperationException>(() => w.Write(path));
        Assert.False(File.Exists(path));
        Assert.Empty(Directory.GetFiles(tmp.Path)); // the temporary file is gone too
    }

    [Fact]
    public void StreamingWriterBuildsAFileLargerThan4GiBWithoutHoldingIt()
    {
        // Offsets past 2^31 and 2^32 are where int truncation hides. The callback writes the first and last row of
        // each tensor and seeks over the rest, so on file systems with sparse files this costs almost no disk.
        if (!OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("TERN_LARGE_TESTS") != "1")
            return;
        using var tmp = TestData.NewTempFolder();
        string path = tmp.File("big.safetensors");
        const long rows = 32768, cols = 40960; // 2.5 GiB of bf16 per tensor, two tensors: 5 GiB
        var writer = new SafetensorsWriter();
        for (int t = 0; t < 2; t++)
        {
            int tag = t;
            writer.AddStreaming($"layers.{t}.weight", SafetensorsDType.BF16, [rows, cols], s =>
            {
                var row = new byte[cols * 2];
                for (int i = 0; i < cols; i++)
                    BinaryPrimitives.WriteUInt16LittleEndian(row.AsSpan(2 * i), FloatConversion.Float32ToBFloat16(tag + i % 7));
                s.Write(row);
                s.Seek((rows - 2) * cols * 2, SeekOrigin.Current);
                for (int i = 0; i < cols; i++)
                    BinaryPrimitives.WriteUInt16LittleEndian(row.AsSpan(2 * i), FloatConversion.Float32ToBFloat16(-(tag + i % 5)));
                s.Write(row);
            });
        }
        writer.Write(path);

        using var f = SafetensorsFile.Open(path);
        Assert.True(f.DataLength == 2 * rows * cols * 2);
        var t1 = f.GetTensor("layers.1.weight");
        Assert.True(t1.DataBegin > uint.MaxValue / 2 && t1.DataEnd > uint.MaxValue);
        var buf = new float[cols];
        f.ReadRowsAsFloat(t1, rows - 1, 1, buf);
        for (int i = 0; i < cols; i++)
            Assert.Equal(-(1 + i % 5), buf[i]);
        f.ReadRowsAsFloat(t1, 0, 1, buf);
        Assert.Equal(1 + 3 % 7, buf[3]);
        f.ReadRowsAsFloat(t1, rows / 2, 1, buf);
        Assert.All(buf, x => Assert.Equal(0f, x));
        Assert.Equal(FloatConversion.Float32ToBFloat16(-(1 + 2 % 5)), BinaryPrimitives.ReadUInt16LittleEndian(f.ReadBytes(t1, (rows - 1) * cols * 2 + 4, 2)));
    }
}
