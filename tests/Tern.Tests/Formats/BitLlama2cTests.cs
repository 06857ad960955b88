using System.Buffers.Binary;
using Tern.Formats;

namespace Tern.Tests.Formats;

public class BitLlama2cTests
{
    private static string Model(string name) => TestData.SharedDataPath("models", "bitllama2c", name);

    [Fact]
    public void Loads3M()
    {
        string path = Model("bit_model_3M.bin");
        var m = BitLlama2cModel.Load(path);
        Assert.Equal(new Llama2cConfig(256, 256, 8, 8, 4, 512, 512, SharedClassifier: true), m.Config);
        Assert.Equal(new FileInfo(path).Length, BitLlama2cModel.ExpectedFileSize(m.Config));
        Assert.Equal(BitOrder.MsbFirst, m.BitOrder);
        Assert.Equal(10.188575f, m.FinalNorm[0]);
        Assert.Equal(0.0026363593f, m.TokenEmbedding[0, 0]);
        Assert.Equal(8, m.Layers.Count);

        var l0 = m.Layers[0];
        Assert.Equal((256, 256), (l0.Wq.Rows, l0.Wq.Cols));
        Assert.Equal((128, 256), (l0.Wk.Rows, l0.Wk.Cols)); // GQA: 4 kv heads of 32
        Assert.Equal((128, 256), (l0.Wv.Rows, l0.Wv.Cols));
        Assert.Equal((256, 256), (l0.Wo.Rows, l0.Wo.Cols));
        Assert.Equal((256, 256), (l0.W1.Rows, l0.W1.Cols));
        Assert.Equal(2.1178865f, l0.Wq.Scale);
        Assert.Equal(2.1605752f, l0.Wk.Scale);
        Assert.Equal(0.14427400f, l0.W3.Scale);
        // The first two bytes of layer 0's wq are ff dd: 11 11 11 11 | 11 01 11 01.
        Assert.Equal(new sbyte[] { -1, -1, -1, -1, -1, 1, -1, 1 }, l0.Wq.Values[..8]);
        Assert.Equal(-1 * 2.1178865f, l0.Wq.Dequantize()[0]);
    }

    [Fact]
    public void Loads1MWithItsSmallerDimension()
    {
        var m = BitLlama2cModel.Load(Model("bit_model_1M.bin"));
        Assert.Equal(new Llama2cConfig(128, 256, 8, 8, 4, 512, 512, SharedClassifier: true), m.Config);
        var l0 = m.Layers[0];
        Assert.Equal((64, 128), (l0.Wk.Rows, l0.Wk.Cols));
        Assert.Equal((256, 128), (l0.W1.Rows, l0.W1.Cols));
        Assert.Equal((128, 256), (l0.W2.Rows, l0.W2.Cols));
        Assert.Equal(0.76605886f, l0.Wq.Scale);
        Assert.Equal(new sbyte[] { -1, 1, 1, 1, 1, 1, 1, 0 }, l0.Wq.Values[..8]); // bytes d5 54
        Assert.Equal(11.760778f, m.FinalNorm[0]);
    }

    [Fact]
    public void TheLsbFileIsTheSameModelAsTheMsbFile()
    {
        var msb = BitLlama2cModel.Load(Model("bit_model_3M.bin"), BitOrder.MsbFirst);
        var lsb = BitLlama2cModel.Load(Model("bit_model_3M_lsb.bin"), BitOrder.LsbFirst);
        Assert.Equal(msb.Config, lsb.Config);
        Assert.Equal(msb.FinalNorm, lsb.FinalNorm);
        Assert.Equal(msb.TokenEmbedding.Values, lsb.TokenEmbedding.Values);
        for (int l = 0; l < msb.Layers.Count; l++)
        {
            var a = Matrices(msb.Layers[l]);
            var b = Matrices(lsb.Layers[l]);
            for (int k = 0; k < a.Length; k++)
            {
                Assert.Equal(a[k].Scale, b[k].Scale);
                Assert.Equal(a[k].Values, b[k].Values);
            }
        }

        // Read with the wrong order, every group of four comes out reversed: a valid-looking, wrong model,
        // which is why the order cannot be detected and the caller must say.
        var wrong = BitLlama2cModel.Load(Model("bit_model_3M_lsb.bin"), BitOrder.MsbFirst);
        var right = msb.Layers[0].Wq.Values;
        var reversed = wrong.Layers[0].Wq.Values;
        Assert.NotEqual(right, reversed);
        for (int i = 0; i < right.Length; i++)
            Assert.Equal(right[i], reversed[i ^ 3]);
    }

    [Theory]
    [InlineData("bit_model_1M.bin")]
    [InlineData("bit_model_3M.bin")]
    public void ScalesArePositiveAndCodesTernary(string name)
    {
        var m = BitLlama2cModel.Load(Model(name));
        foreach (var layer in m.Layers)
        {
            foreach (var w in Matrices(layer))
            {
                Assert.True(w.Scale > 0 && float.IsFinite(w.Scale));
                Assert.Equal(w.Rows * w.Cols, w.Values.Length);
                // A trained ternary matrix uses all three values; an all-zero or all-sign matrix would mean a misread.
                int zeros = w.Values.Count(v => v == 0), plus = w.Values.Count(v => v == 1), minus = w.Values.Count(v => v == -1);
                Assert.Equal(w.Values.Length, zeros + plus + minus);
                Assert.True(zeros > 0 && plus > 0 && minus > 0);
            }
        }
    }

    private static TernaryMatrix[] Matrices(BitLlama2cLayer l) => [l.Wq, l.Wk, l.Wv, l.Wo, l.W1, l.W2, l.W3];

    private static string Mutated(TempFolder tmp, Action<byte[]> mutate, int? truncateTo = null)
    {
        var bytes = File.ReadAllBytes(Model("bit_model_1M.bin"));
        mutate(bytes);
        string path = tmp.File("bit.bin");
        File.WriteAllBytes(path, truncateTo is int n ? bytes[..n] : bytes);
        return path;
    }

    public static TheoryData<int, int, string> HeaderEdits => new()
    {
        { 0, 0x12345678, "magic is 0x12345678" },
        { 4, 2, "version is 2" },
        { 8, -128, "dim is -128" },
        { 8, 100, "dim 100 is not divisible by n_heads 8" },
        { 24, 3, "n_kv_heads 3 does not divide n_heads 8" },
        { 28, 0, "vocab_size is 0" },
        { 12, 255, "implies" },
        { 16, 0, "n_layers is 0" },
        { 32, -1, "seq_len is -1" },
    };

    [Theory]
    [MemberData(nameof(HeaderEdits))]
    public void ABadHeaderIsRefusedNamingTheField(int offset, int value, string expected)
    {
        using var tmp = TestData.NewTempFolder();
        string path = Mutated(tmp, b => BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(offset), value));
        var e = Assert.Throws<InvalidDataException>(() => BitLlama2cModel.Load(path));
        Assert.StartsWith(path + ": ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnsharedClassifierFlagIsRefused()
    {
        using var tmp = TestData.NewTempFolder();
        string path = Mutated(tmp, b => b[36] = 0);
        var e = Assert.Throws<InvalidDataException>(() => BitLlama2cModel.Load(path));
        Assert.Contains("shared_classifier is 0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ATruncatedFileIsRefused()
    {
        using var tmp = TestData.NewTempFolder();
        string path = Mutated(tmp, _ => { }, truncateTo: 558048 - 1);
        var e = Assert.Throws<InvalidDataException>(() => BitLlama2cModel.Load(path));
        Assert.Contains("file is 558047 bytes but its header", e.Message, StringComparison.Ordinal);
        Assert.Contains("558048 (truncated)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheUndefinedCodeIsRefusedWithItsPlace()
    {
        using var tmp = TestData.NewTempFolder();
        // The first code byte of layer 0's wk: header, final_norm, embedding, 8 × (scale + wq), then wk's scale.
        const int dim = 128, vocab = 512, layers = 8;
        int offset = 256 + 4 * dim + 4 * vocab * dim + layers * (4 + dim * dim / 4) + 4;
        string path = Mutated(tmp, b => b[offset + 1] = 0b01_10_00_11);
        var e = Assert.Throws<InvalidDataException>(() => BitLlama2cModel.Load(path));
        Assert.Contains("layer 0 wk", e.Message, StringComparison.Ordinal);
        Assert.Contains("element 5 (row 0, column 5)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnpackFollowsTheReadmeBitOrders()
    {
        // Elements +1, −1, 0, +1 (codes 01 11 00 01).
        var v = new sbyte[4];
        Assert.Equal(-1, BitLlama2cModel.Unpack([0b01_11_00_01], v, BitOrder.MsbFirst));
        Assert.Equal(new sbyte[] { 1, -1, 0, 1 }, v);
        Assert.Equal(-1, BitLlama2cModel.Unpack([0b01_00_11_01], v, BitOrder.LsbFirst));
        Assert.Equal(new sbyte[] { 1, -1, 0, 1 }, v);
    }
}
