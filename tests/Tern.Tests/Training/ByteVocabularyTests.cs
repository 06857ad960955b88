using System.Text;
using Tern.Conversion.Tokenizers;
using Tern.Gguf;
using Tern.Text;
using Tern.Training.Data;

namespace Tern.Tests.Training;

/// <summary>The byte vocabulary, checked through the engine's own tokenizer, which is what inference will use.</summary>
public sealed class ByteVocabularyTests
{
    private static readonly string[] Samples =
    [
        "",
        "Hello, world!",
        "  two spaces,\tthen a tab\nand\r\nline ends\n\n\n",
        "digits 0123456789 and 3.14159, 1e-5, 100000000000",
        "punctuation: !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ and contractions: it's, they're, we'll",
        "héllo wörld, ñandú, Øresund, 100 € and ½",
        "日本語のテキスト、中文文本, 한국어",
        "emoji 😀🚀 and a flag 🇫🇷, a family 👨‍👩‍👧",
        "Ελληνικά, русский, עברית, العربية, हिन्दी",
        "\u0000 control \u0001\u001f characters \u007f and \uFEFF",
        "ends without newline 😀",
    ];

    public static TheoryData<string> Texts => new(Samples);

    [Theory]
    [MemberData(nameof(Texts))]
    public void Any_text_encodes_to_its_utf8_bytes_and_decodes_back(string text)
    {
        var vocabulary = TrainingVocabulary.Bytes();
        int[] expected = Encoding.UTF8.GetBytes(text).Select(b => (int)b).ToArray();

        int[] ids = vocabulary.Encode(text);

        Assert.Equal(expected, ids);
        Assert.Equal(text, vocabulary.Decode(ids));
    }

    [Fact]
    public void Random_unicode_text_encodes_to_its_bytes()
    {
        var vocabulary = TrainingVocabulary.Bytes();
        var random = new SplitMix64(7);
        for (int sample = 0; sample < 200; sample++)
        {
            string text = RandomText(ref random, length: 64);
            int[] expected = Encoding.UTF8.GetBytes(text).Select(b => (int)b).ToArray();
            int[] ids = vocabulary.Encode(text);
            Assert.True(expected.AsSpan().SequenceEqual(ids), $"sample {sample}: {Escape(text)}");
            Assert.Equal(text, vocabulary.Decode(ids));
        }
    }

    [Theory]
    [InlineData("default")]
    [InlineData("gpt2")]
    [InlineData("llama-bpe")]
    public void No_pre_tokenizer_can_change_the_ids_without_merges(string pre)
    {
        var data = ByteVocabulary.Create() with { Pre = pre };
        var vocabulary = TrainingVocabulary.FromTokenizerData(data, pre);
        foreach (string text in Samples)
        {
            Assert.Equal(Encoding.UTF8.GetBytes(text).Select(b => (int)b), vocabulary.Encode(text));
        }
    }

    [Fact]
    public void End_of_text_written_in_the_text_becomes_its_control_token()
    {
        var vocabulary = TrainingVocabulary.Bytes();
        int[] ids = vocabulary.Encode("One.\n<|endoftext|>\nTwo.");

        Assert.Equal([.. "One.\n"u8.ToArray().Select(b => (int)b), ByteVocabulary.EndOfTextId, .. "\nTwo."u8.ToArray().Select(b => (int)b)], ids);
        Assert.Equal(ByteVocabulary.EndOfTextId, vocabulary.EndOfTextId);
        Assert.Equal("One.\n\nTwo.", vocabulary.Decode(ids));
    }

    [Fact]
    public void The_engine_reads_it_as_a_gpt2_vocabulary_with_end_of_text_as_bos_and_eos()
    {
        var vocabulary = TrainingVocabulary.Bytes();
        var tokenizer = vocabulary.Tokenizer;

        Assert.Equal(257, vocabulary.VocabularySize);
        Assert.Equal("gpt2", tokenizer.Model);
        Assert.Equal(256, tokenizer.BosId);
        Assert.Equal(256, tokenizer.EosId);
        Assert.False(tokenizer.AddBos);
        Assert.True(tokenizer.IsEndOfGeneration(256));
        Assert.Equal(GgufTokenType.Control, tokenizer.TokenType(256));
        Assert.Equal("Ġ", tokenizer.TokenText(' '));
        Assert.Equal("Ċ", tokenizer.TokenText('\n'));
        Assert.All(Enumerable.Range(0, 256), b => Assert.Equal(GgufTokenType.Normal, tokenizer.TokenType(b)));
        Assert.Contains("257 tokens", vocabulary.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void A_gguf_file_written_with_it_gives_the_same_vocabulary_back()
    {
        using var folder = TestData.NewTempFolder();
        string path = folder.File("bytes.gguf");
        var metadata = new GgufMetadata();
        metadata.Set(GgufKeys.Architecture, "llama");
        TrainingVocabulary.Bytes().WriteTo(metadata);
        new GgufWriter(metadata).Write(path);

        var reread = TrainingVocabulary.FromFile(path);

        Assert.Equal(TrainingVocabulary.Bytes().TokenizerData.Tokens, reread.TokenizerData.Tokens);
        Assert.Equal([], reread.TokenizerData.Merges!);
        Assert.Empty(reread.TokenizerData.Warnings);
        const string text = "Round trip: ünïcödé 😀\n";
        Assert.Equal(Encoding.UTF8.GetBytes(text).Select(b => (int)b), reread.Encode(text));
        Assert.Contains("GGUF", reread.Description, StringComparison.Ordinal);
    }

    /// <summary>Code points from every UTF-8 length, spaces and line ends among them, surrogate pairs kept whole.</summary>
    private static string RandomText(ref SplitMix64 random, int length)
    {
        int[][] ranges = [[0x20, 0x7E], [0x09, 0x0D], [0xA0, 0x7FF], [0x800, 0xD7FF], [0xE000, 0xFFFD], [0x10000, 0x10FFFF]];
        var text = new StringBuilder();
        for (int i = 0; i < length; i++)
        {
            int[] range = ranges[random.NextBelow((ulong)ranges.Length)];
            int codePoint = range[0] + (int)random.NextBelow((ulong)(range[1] - range[0] + 1));
            text.Append(char.ConvertFromUtf32(codePoint));
        }

        return text.ToString();
    }

    private static string Escape(string text) =>
        string.Concat(text.Select(c => c is >= ' ' and <= '~' ? c.ToString() : $"\\u{(int)c:X4}"));
}
