using Tern.Conversion.Tokenizers;
using Tern.Gguf;
using Tern.Tests.Text;
using Tern.Text;
using Tern.Training.Data;
using TokenizerFiles = Tern.Tests.Tokenizers.TestData;

namespace Tern.Tests.Training;

/// <summary>Vocabularies taken from existing tokenizer files encode as the engine does, and as llama.cpp's test vectors say.</summary>
public sealed class TrainingVocabularyTests
{
    [Fact]
    public void A_gguf_files_vocabulary_encodes_like_the_engine_reading_that_file()
    {
        var vocabulary = TrainingVocabulary.FromFile(TokenizerFiles.LlamaSpmGguf);
        using var file = GgufFile.Open(TokenizerFiles.LlamaSpmGguf);
        var engine = GgufTokenizer.Create(file.Metadata);

        var cases = VocabTestVectors.Read("llama-spm");
        foreach (var (text, expected) in cases)
        {
            Assert.Equal(engine.Encode(text, addBos: false), vocabulary.Encode(text));
            Assert.Equal(expected, vocabulary.Encode(text));
        }

        Assert.Equal(32_000, vocabulary.VocabularySize);
        Assert.Contains("GGUF", vocabulary.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void A_gguf_files_vocabulary_is_written_back_key_for_key()
    {
        using var file = GgufFile.Open(TokenizerFiles.LlamaSpmGguf);
        var data = GgufTokenizerData.FromMetadata(file.Metadata);
        var written = new GgufMetadata();
        data.WriteTo(written);

        var original = file.Metadata.Where(kv => kv.Key.StartsWith("tokenizer.", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(original);
        Assert.Equal(original.Select(kv => kv.Key).Order(StringComparer.Ordinal), written.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, value) in original)
            Assert.True(value.Equals(written[key]), $"{key}: the file has {value.Describe()}, written {written[key].Describe()}");
        Assert.Empty(data.Warnings);
        Assert.Empty(TrainingVocabulary.FromFile(TokenizerFiles.LlamaSpmGguf).Warnings);
    }

    [Fact]
    public void Keys_from_vocabularies_tern_does_not_write_are_named_in_warnings()
    {
        var metadata = new GgufMetadata();
        ByteVocabulary.Create().WriteTo(metadata);
        metadata.Set("tokenizer.ggml.seperator_token_id", 3u);

        var data = GgufTokenizerData.FromMetadata(metadata);

        Assert.Contains(data.Warnings, w => w.Contains("tokenizer.ggml.seperator_token_id", StringComparison.Ordinal));
        Assert.Equal(data.Warnings, TrainingVocabulary.FromTokenizerData(data, "with a separator").Warnings);
    }

    [Fact]
    public void The_llama3_tiktoken_file_encodes_as_llama_cpp_does()
    {
        var vocabulary = TrainingVocabulary.FromFile(TokenizerFiles.Llama3Tiktoken);

        TestVectorAssert.AllMatch(vocabulary.Tokenizer, VocabTestVectors.Read("llama-bpe"), expectedFailures: []);
        foreach (var (text, expected) in VocabTestVectors.Read("llama-bpe"))
            Assert.Equal(expected, vocabulary.Encode(text));
        Assert.Equal(128_256, vocabulary.VocabularySize);
        Assert.Contains("tiktoken", vocabulary.Description, StringComparison.Ordinal);
        // tokenizer_config.json beside the file names the ends of text and of turns.
        Assert.Equal("<|end_of_text|>", vocabulary.Tokenizer.TokenText(vocabulary.EndOfTextId));
    }

    [Fact]
    public void A_sentencepiece_model_encodes_as_llama_cpp_does()
    {
        var vocabulary = TrainingVocabulary.FromFile(TokenizerFiles.Llama2Model);

        foreach (var (text, expected) in VocabTestVectors.Read("llama-spm"))
            Assert.Equal(expected, vocabulary.Encode(text));
        Assert.Contains("SentencePiece", vocabulary.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_gives_back_the_text()
    {
        var vocabulary = TrainingVocabulary.FromFile(TokenizerFiles.LlamaSpmGguf);
        const string text = "Once upon a time, there was a little girl named Lily.\nShe loved to play outside.";
        Assert.Equal(text, vocabulary.Decode(vocabulary.Encode(text)));
    }

    [Fact]
    public void A_missing_tokenizer_file_is_named()
    {
        using var folder = TestData.NewTempFolder();
        string missing = folder.File("nope.model");
        var e = Assert.Throws<FileNotFoundException>(() => TrainingVocabulary.FromFile(missing));
        Assert.Contains(missing, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_that_is_no_tokenizer_is_named()
    {
        using var folder = TestData.NewTempFolder();
        string path = folder.File("notes.txt");
        File.WriteAllText(path, "not a tokenizer\n");
        var e = Assert.Throws<InvalidDataException>(() => TrainingVocabulary.FromFile(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_gguf_file_without_a_vocabulary_is_named()
    {
        using var folder = TestData.NewTempFolder();
        string path = folder.File("empty.gguf");
        var metadata = new GgufMetadata();
        metadata.Set(GgufKeys.Architecture, "llama");
        new GgufWriter(metadata).Write(path);

        var e = Assert.Throws<InvalidDataException>(() => TrainingVocabulary.FromFile(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains(GgufKeys.TokenizerModel, e.Message, StringComparison.Ordinal);
    }
}
