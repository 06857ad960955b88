using Tern.Text;

namespace Tern.Tests.Text;

public sealed class LlamaSpmTokenizerTests(LlamaSpmFixture fixture) : IClassFixture<LlamaSpmFixture>
{
    private readonly GgufTokenizer _tok = fixture.Tokenizer;

    [Fact]
    public void Reads_the_vocabulary_and_special_ids_from_gguf()
    {
        Assert.IsType<SentencePieceBpeTokenizer>(_tok);
        Assert.Equal(32000, _tok.VocabularySize);
        Assert.Equal(1, _tok.BosId);
        Assert.Equal(2, _tok.EosId);
        Assert.True(_tok.IsEndOfGeneration(2));
        Assert.False(_tok.IsEndOfGeneration(1));
    }

    [Fact]
    public void Matches_every_llama_cpp_test_vector() =>
        TestVectorAssert.AllMatch(_tok, VocabTestVectors.Read("llama-spm"), expectedFailures: []);

    [Fact]
    public void Decode_inverts_encode_on_the_test_inputs()
    {
        foreach (var (text, _) in VocabTestVectors.Read("llama-spm"))
            Assert.Equal(text, _tok.Decode(_tok.Encode(text, addBos: true)));
    }

    [Fact]
    public void Bos_is_added_on_request_and_the_space_prefix_follows_it()
    {
        Assert.Equal([1, 15043, 3186], _tok.Encode("Hello world", addBos: true));
        Assert.Equal([], _tok.Encode("", addBos: false));
        Assert.Equal([1], _tok.Encode("", addBos: true));
    }

    [Fact]
    public void Control_tokens_in_the_text_are_parsed_only_when_asked()
    {
        int[] parsed = _tok.Encode("<s>Hello</s>", addBos: false, parseSpecial: true);
        Assert.Equal(1, parsed[0]);
        Assert.Equal(2, parsed[^1]);
        Assert.Equal(_tok.Encode("Hello", addBos: false), parsed[1..^1]);

        int[] plain = _tok.Encode("<s>", addBos: false);
        Assert.DoesNotContain(1, plain);
        Assert.Equal("<s>", _tok.Decode(plain));
    }

    [Fact]
    public void Characters_outside_the_vocabulary_fall_back_to_byte_tokens()
    {
        // 🦙 is not a piece of Llama 2's vocabulary: it is spelt as <0xF0><0x9F><0xA6><0x99>.
        int[] ids = _tok.Encode("🦙", addBos: false);
        Assert.Equal(["▁", "<0xF0>", "<0x9F>", "<0xA6>", "<0x99>"], ids.Select(_tok.TokenText));
    }
}
