using Tern.Text;

namespace Tern.Tests.Text;

public sealed class LlamaBpeTokenizerTests(LlamaBpeFixture fixture) : IClassFixture<LlamaBpeFixture>
{
    private readonly GgufTokenizer _tok = fixture.Tokenizer;

    [Fact]
    public void Reads_the_vocabulary_and_special_ids_from_converted_metadata()
    {
        var bpe = Assert.IsType<ByteLevelBpeTokenizer>(_tok);
        Assert.Equal("llama-bpe", bpe.Pre);
        Assert.Equal(128256, _tok.VocabularySize);
        Assert.Equal(128000, _tok.BosId);
        Assert.Equal("<|begin_of_text|>", _tok.TokenText(_tok.BosId));
        Assert.Equal(128009, _tok.EotId);
        Assert.True(_tok.IsEndOfGeneration(_tok.EosId));
        Assert.True(_tok.IsEndOfGeneration(128009));
        Assert.False(_tok.IsEndOfGeneration(_tok.BosId));
    }

    [Fact]
    public void Matches_every_llama_cpp_test_vector() =>
        TestVectorAssert.AllMatch(_tok, VocabTestVectors.Read("llama-bpe"), expectedFailures: []);

    [Fact]
    public void Decode_inverts_encode_on_the_test_inputs()
    {
        foreach (var (text, _) in VocabTestVectors.Read("llama-bpe"))
            Assert.Equal(text, _tok.Decode(_tok.Encode(text, addBos: true)));
    }

    [Fact]
    public void Special_tokens_in_the_text_are_single_ids_only_when_asked()
    {
        const string text = "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>";
        int[] parsed = _tok.Encode(text, addBos: false, parseSpecial: true);
        Assert.Equal([128000, 128006, 882, 128007, 271, 13347, 128009], parsed);

        int[] plain = _tok.Encode(text, addBos: false);
        Assert.DoesNotContain(128000, plain);
        Assert.Equal(text, _tok.Decode(plain));
    }

    [Fact]
    public void Bos_is_added_on_request()
    {
        Assert.Equal([128000, 9906, 1917], _tok.Encode("Hello world", addBos: true));
        Assert.Equal([128000], _tok.Encode("", addBos: true));
    }
}
