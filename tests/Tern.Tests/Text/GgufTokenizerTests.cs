using Tern.Conversion.Tokenizers;
using Tern.Gguf;
using Tern.Text;

namespace Tern.Tests.Text;

/// <summary>Rules seen on small hand-made vocabularies, and the errors for metadata Tern cannot use.</summary>
public sealed class GgufTokenizerTests
{
    private static GgufMetadata TinySpm()
    {
        var data = new GgufTokenizerData
        {
            Model = "llama",
            Pre = "default",
            Tokens = ["<unk>", "<s>", "</s>", "▁", "a", "b", "▁a", "▁b", "<tool>"],
            TokenTypes = [2, 3, 3, 1, 1, 1, 1, 1, 4],
            Scores = [0, 0, 0, -1, -2, -2, -0.5f, -0.5f, 0],
            BosId = 1,
            EosId = 2,
        };
        var metadata = new GgufMetadata();
        data.WriteTo(metadata);
        return metadata;
    }

    [Fact]
    public void User_defined_tokens_are_always_matched_and_text_after_them_gets_the_space_prefix()
    {
        var tok = GgufTokenizer.Create(TinySpm());
        Assert.Equal([6, 8, 7], tok.Encode("a<tool>b", addBos: false));
        Assert.Equal([1, 6, 8, 7], tok.Encode("a<tool>b", addBos: true));
        Assert.Equal("a<tool> b", tok.Decode([1, 6, 8, 7, 2]));
    }

    [Fact]
    public void Add_space_prefix_false_leaves_the_text_as_it_is()
    {
        var metadata = TinySpm();
        metadata.Set(GgufKeys.TokenizerAddSpacePrefix, false);
        var tok = Assert.IsType<SentencePieceBpeTokenizer>(GgufTokenizer.Create(metadata));
        Assert.False(tok.AddSpacePrefix);
        Assert.Equal([4, 7], tok.Encode("a b", addBos: false));
        Assert.Equal("a b", tok.Decode([4, 7]));
    }

    [Fact]
    public void Gpt2_regex_cuts_words_numbers_punctuation_and_spaces()
    {
        var regex = new System.Text.RegularExpressions.Regex(PreTokenizerPatterns.Gpt2);
        Assert.Equal(["Hello", ",", " world", "!", " ", " It", "'s", " 2024"],
            PreTokenizerPatterns.Split("Hello, world!  It's 2024", [regex]));
    }

    [Fact]
    public void Llama3_regex_keeps_digits_in_threes_and_contractions_in_any_case()
    {
        var regex = new System.Text.RegularExpressions.Regex(PreTokenizerPatterns.Llama3);
        Assert.Equal(["333", "3", " I", "'LL", " go", "\n\n"], PreTokenizerPatterns.Split("3333 I'LL go\n\n", [regex]));
    }

    [Fact]
    public void Metadata_without_a_usable_tokenizer_is_refused_with_the_key_named()
    {
        var empty = new GgufMetadata();
        Assert.Contains(GgufKeys.TokenizerModel, Assert.Throws<InvalidDataException>(() => GgufTokenizer.Create(empty)).Message);

        var bert = TinySpm();
        bert.Set(GgufKeys.TokenizerModel, "bert");
        Assert.Contains("\"bert\"", Assert.Throws<NotSupportedException>(() => GgufTokenizer.Create(bert)).Message);

        var noMerges = TinySpm();
        noMerges.Set(GgufKeys.TokenizerModel, "gpt2");
        Assert.Contains(GgufKeys.TokenizerMerges, Assert.Throws<InvalidDataException>(() => GgufTokenizer.Create(noMerges)).Message);

        var oddPre = TinySpm();
        oddPre.Set(GgufKeys.TokenizerModel, "gpt2");
        oddPre.Set(GgufKeys.TokenizerPre, "qwen9");
        Assert.Contains("\"qwen9\"", Assert.Throws<NotSupportedException>(() => GgufTokenizer.Create(oddPre)).Message);
    }
}
