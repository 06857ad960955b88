using System.Buffers.Binary;
using Tern.Formats;

namespace Tern.Tests.Formats;

public class Llama2cTests
{
    private static readonly string Stories260K = TestData.SharedDataPath("models", "stories260K", "stories260K.bin");
    private static readonly string Tok512 = TestData.SharedDataPath("models", "stories260K", "tok512.bin");

    [Fact]
    public void LoadsStories260K()
    {
        var m = Llama2cModel.Load(Stories260K);
        Assert.Equal(new Llama2cConfig(64, 172, 5, 8, 4, 512, 512, SharedClassifier: true), m.Config);
        Assert.Equal(8, m.Config.HeadDim);
        Assert.Equal(32, m.Config.KvDim);
        Assert.Equal(new FileInfo(Stories260K).Length, Llama2cModel.ExpectedFileSize(m.Config));

        Assert.Equal((512, 64), (m.TokenEmbedding.Rows, m.TokenEmbedding.Cols));
        Assert.Same(m.TokenEmbedding, m.Classifier);
        Assert.Equal(-0.29474878f, m.TokenEmbedding[0, 0]);
        Assert.Equal(0.56189561f, m.TokenEmbedding[0, 1]);
        Assert.Equal(5, m.Layers.Count);
        var l0 = m.Layers[0];
        Assert.Equal(64, l0.RmsAttWeight.Length);
        Assert.Equal(0.97224295f, l0.RmsAttWeight[0]);
        Assert.Equal((64, 64), (l0.Wq.Rows, l0.Wq.Cols));
        Assert.Equal(0.044392787f, l0.Wq[0, 0]);
        Assert.Equal((32, 64), (l0.Wk.Rows, l0.Wk.Cols));
        Assert.Equal((32, 64), (l0.Wv.Rows, l0.Wv.Cols));
        Assert.Equal((64, 64), (l0.Wo.Rows, l0.Wo.Cols));
        Assert.Equal((172, 64), (l0.W1.Rows, l0.W1.Cols));
        Assert.Equal((64, 172), (l0.W2.Rows, l0.W2.Cols));
        Assert.Equal((172, 64), (l0.W3.Rows, l0.W3.Cols));
        Assert.Equal(2.4583089f, m.RmsFinalWeight[0]);
        Assert.Equal(1.3673227f, m.RmsFinalWeight[1]);
    }

    [Fact]
    public void LoadsTok512()
    {
        var t = Llama2cTokenizer.Load(Tok512, 512);
        Assert.Equal(7, t.MaxTokenLength);
        Assert.Equal(512, t.VocabSize);
        // llama2.c's tokenizer export writes BOS and EOS with newlines around them.
        Assert.Equal(["<unk>", "\n<s>\n", "\n</s>\n", "<0x00>"], t.Tokens.Take(4));
        Assert.Equal("<0xFF>", t.Tokens[258]);
        Assert.Equal(0f, t.Scores[0]);
        Assert.Equal("\u200A", t.Tokens[511]); // the last piece is U+200A HAIR SPACE
        Assert.Equal(-252f, t.Scores[511]);
        // bitllama2.c ships the same file.
        Assert.Equal(File.ReadAllBytes(Tok512), File.ReadAllBytes(TestData.SharedDataPath("models", "bitllama2c", "tok512.bin")));
    }

    [Fact]
    public void ATokenizerReadWithTheWrongVocabularySizeIsRefused()
    {
        var e = Assert.Throws<InvalidDataException>(() => Llama2cTokenizer.Load(Tok512, 513));
        Assert.Contains(Tok512, e.Message, StringComparison.Ordinal);
        Assert.Contains("token 512", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<InvalidDataException>(() => Llama2cTokenizer.Load(Tok512, 500));
        Assert.Contains("more tokens than vocab_size 500", e.Message, StringComparison.Ordinal);
    }

    private static string Mutated(TempFolder tmp, Action<byte[]> mutate, int? truncateTo = null)
    {
        var bytes = File.ReadAllBytes(Stories260K);
        mutate(bytes);
        string path = tmp.File("model.bin");
        File.WriteAllBytes(path, truncateTo is int n ? bytes[..n] : bytes);
        return path;
    }

    [Theory]
    [InlineData(0, -64, "dim is -64")]
    [InlineData(0, 60, "dim 60 is not divisible by n_heads 8")]
    [InlineData(3, 0, "n_heads is 0")]
    [InlineData(4, 3, "n_kv_heads 3 does not divide n_heads 8")]
    [InlineData(2, 1 << 30, "implausibly large")]
    [InlineData(1, 173, "implies")]
    public void ABadHeaderIsRefusedNamingTheField(int field, int value, string expected)
    {
        using var tmp = TestData.NewTempFolder();
        string path = Mutated(tmp, b => BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(4 * field), value));
        var e = Assert.Throws<InvalidDataException>(() => Llama2cModel.Load(path));
        Assert.StartsWith(path + ": ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ATruncatedFileIsRefused()
    {
        using var tmp = TestData.NewTempFolder();
        string path = Mutated(tmp, _ => { }, truncateTo: 1_000_000);
        var e = Assert.Throws<InvalidDataException>(() => Llama2cModel.Load(path));
        Assert.Contains("file is 1000000 bytes but its header", e.Message, StringComparison.Ordinal);
        Assert.Contains("1056540", e.Message, StringComparison.Ordinal);
        Assert.Contains("(truncated)", e.Message, StringComparison.Ordinal);

        path = Mutated(tmp, _ => { }, truncateTo: 10);
        e = Assert.Throws<InvalidDataException>(() => Llama2cModel.Load(path));
        Assert.Contains("header", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ANegativeVocabularyMeansASeparateClassifier()
    {
        // Same file with vocab_size negated and a classifier appended: the legacy layout for an unshared wcls.
        using var tmp = TestData.NewTempFolder();
        var bytes = File.ReadAllBytes(Stories260K);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(20), -512);
        var wcls = new byte[512 * 64 * 4];
        BinaryPrimitives.WriteSingleLittleEndian(wcls, 42f);
        string path = tmp.File("unshared.bin");
        File.WriteAllBytes(path, [.. bytes, .. wcls]);
        var m = Llama2cModel.Load(path);
        Assert.False(m.Config.SharedClassifier);
        Assert.Equal(512, m.Config.VocabSize);
        Assert.Equal(42f, m.Classifier[0, 0]);
        Assert.Equal(-0.29474878f, m.TokenEmbedding[0, 0]);
    }
}
