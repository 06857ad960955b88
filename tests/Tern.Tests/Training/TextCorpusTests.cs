using Tern.Training.Data;

namespace Tern.Tests.Training;

public sealed class TextCorpusTests : IDisposable
{
    private readonly TempFolder _folder = TestData.NewTempFolder();

    public void Dispose() => _folder.Dispose();

    private static readonly TrainingVocabulary Bytes = TrainingVocabulary.Bytes();

    private string Write(string name, byte[] content)
    {
        string path = _folder.File(name);
        File.WriteAllBytes(path, content);
        return path;
    }

    [Fact]
    public void Tiny_shakespeare_splits_as_nanoGPT_splits_it()
    {
        // nanoGPT's shakespeare_char: 1,115,394 characters, all ASCII, so one byte token each; int(n * 0.9) train.
        var corpus = TextCorpus.Load(TestData.SharedDataPath("corpora", "tinyshakespeare", "input.txt"), Bytes, context: 256);

        Assert.Equal(1_115_394, corpus.Tokens.Length);
        Assert.Equal(1_003_854, corpus.TrainCount);
        Assert.Equal(111_540, corpus.ValidationCount);
        Assert.Equal(corpus.TrainCount, corpus.Train.Length);
        Assert.Equal(corpus.ValidationCount, corpus.Validation.Length);
        Assert.Equal("First Citizen:", Bytes.Decode(corpus.Train.Span[..14]));
        Assert.True(corpus.Tokens.Span[corpus.TrainCount..].SequenceEqual(corpus.Validation.Span));
    }

    [Theory]
    [InlineData(0.1, 900)]
    [InlineData(0.25, 750)]
    [InlineData(0.0, 1000)]
    public void The_last_fraction_of_the_tokens_validates(double fraction, int train)
    {
        string text = string.Concat(Enumerable.Repeat("0123456789", 100));
        var corpus = TextCorpus.FromText(text, Bytes, context: 8, fraction);

        Assert.Equal(train, corpus.TrainCount);
        Assert.Equal(1000 - train, corpus.ValidationCount);
        Assert.Equal(fraction, corpus.ValidationFraction);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        string path = _folder.File("missing.txt");
        var e = Assert.Throws<FileNotFoundException>(() => TextCorpus.Load(path, Bytes, context: 8));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_file_is_named()
    {
        string path = Write("empty.txt", []);
        var e = Assert.Throws<InvalidDataException>(() => TextCorpus.Load(path, Bytes, context: 8));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("empty", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_utf8_is_refused_at_the_offset_of_the_first_bad_byte()
    {
        // "héllo" then a lone continuation byte at offset 6, then a truncated 3-byte sequence.
        byte[] content = [.. "h\u00e9llo"u8.ToArray(), 0x80, .. " world"u8.ToArray(), 0xE2, 0x82];
        string path = Write("latin1.txt", content);

        var e = Assert.Throws<InvalidDataException>(() => TextCorpus.Load(path, Bytes, context: 2));

        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("not valid UTF-8 at byte 6 (0x80)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_text_too_short_for_the_context_says_how_many_tokens_each_split_has_and_needs()
    {
        string path = Write("short.txt", "0123456789"u8.ToArray().Concat(new byte[990].Select(_ => (byte)'x')).ToArray());

        // 1000 tokens: 900 train, 100 validate; a context of 128 needs 129 in each.
        var e = Assert.Throws<InvalidDataException>(() => TextCorpus.Load(path, Bytes, context: 128));

        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("the validation split is", e.Message, StringComparison.Ordinal);
        Assert.Contains("900 for training and 100 for validation", e.Message, StringComparison.Ordinal);
        Assert.Contains("129 tokens", e.Message, StringComparison.Ordinal);
        Assert.Contains("larger validation fraction", e.Message, StringComparison.Ordinal);

        var both = Assert.Throws<InvalidDataException>(() => TextCorpus.Load(path, Bytes, context: 1000));
        Assert.Contains("both splits are", both.Message, StringComparison.Ordinal);
        Assert.Contains("1001 tokens", both.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Each_split_needs_exactly_one_window_of_context_inputs_and_the_next_token()
    {
        string text = new('a', 110); // 99 train, 11 validate with a fraction of 0.1
        Assert.Equal(11, TextCorpus.FromText(text, Bytes, context: 10).ValidationCount);
        Assert.Throws<InvalidDataException>(() => TextCorpus.FromText(text, Bytes, context: 11));
    }

    [Fact]
    public void Without_validation_only_the_training_split_must_fit()
    {
        var corpus = TextCorpus.FromText(new string('a', 50), Bytes, context: 49, validationFraction: 0);
        Assert.Equal(0, corpus.ValidationCount);
        var e = Assert.Throws<InvalidDataException>(() => corpus.RequireContext(50));
        Assert.Contains("the training split is", e.Message, StringComparison.Ordinal);
        Assert.Contains("all for training", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Document_separators_become_the_end_of_text_token()
    {
        var corpus = TextCorpus.FromText("Once.\n<|endoftext|>\nAgain.\n", Bytes, context: 4, validationFraction: 0);
        Assert.Equal(1, corpus.Tokens.ToArray().Count(t => t == ByteVocabulary.EndOfTextId));
        Assert.Equal("Once.\n".Length + 1 + "\nAgain.\n".Length, corpus.Tokens.Length);
    }
}
