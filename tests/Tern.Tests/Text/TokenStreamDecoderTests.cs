using Tern.Text;

namespace Tern.Tests.Text;

public sealed class TokenStreamDecoderTests(LlamaSpmFixture spm, LlamaBpeFixture bpe) : IClassFixture<LlamaSpmFixture>, IClassFixture<LlamaBpeFixture>
{
    [Fact]
    public void Spm_byte_tokens_of_one_character_come_out_together()
    {
        var tok = spm.Tokenizer;
        int[] ids = tok.Encode("a🦙b", addBos: true);
        // <s> ▁a <0xF0> <0x9F> <0xA6> <0x99> b
        string[] chunks = Feed(tok, ids);
        Assert.Equal(["", "a", "", "", "", "🦙", "b"], chunks);
    }

    [Fact]
    public void Bpe_pieces_that_split_a_character_are_held_until_it_is_whole()
    {
        var tok = bpe.Tokenizer;
        // " this is 🦙.cpp": 🦙 is spread over " \xF0\x9F" (11410), "\xA6" (99) and "\x99" (247).
        int[] ids = tok.Encode(" this is 🦙.cpp", addBos: false);
        Assert.Equal([420, 374, 11410, 99, 247, 13, 11055], ids);
        // The space before it is whole and comes out at once; the emoji waits for its last byte.
        Assert.Equal([" this", " is", " ", "", "🦙", ".", "cpp"], Feed(tok, ids));
    }

    [Fact]
    public void Streaming_every_test_input_id_by_id_gives_decode_and_never_half_a_character()
    {
        foreach (var (tok, name) in new[] { (spm.Tokenizer, "llama-spm"), (bpe.Tokenizer, "llama-bpe") })
        {
            foreach (var (text, _) in VocabTestVectors.Read(name))
            {
                int[] ids = tok.Encode(text, addBos: true);
                string[] chunks = Feed(tok, ids);
                Assert.Equal(tok.Decode(ids), string.Concat(chunks));
                foreach (string chunk in chunks)
                {
                    Assert.DoesNotContain('\uFFFD', chunk);
                    Assert.False(chunk.Length > 0 && char.IsHighSurrogate(chunk[^1]), $"'{chunk}' ends inside a surrogate pair");
                }
            }
        }
    }

    [Fact]
    public void Flush_gives_a_cut_character_as_a_replacement_and_starts_over()
    {
        var tok = spm.Tokenizer;
        var decoder = tok.CreateStreamDecoder();
        int f0 = Array.IndexOf(Enumerable.Range(0, tok.VocabularySize).Select(tok.TokenText).ToArray(), "<0xF0>");
        Assert.Equal("", decoder.Append(f0));
        Assert.Equal("\uFFFD", decoder.Flush());
        Assert.Equal("Hello", decoder.Append(tok.Encode("Hello", addBos: false)[0]));
    }

    private static string[] Feed(GgufTokenizer tok, int[] ids)
    {
        var decoder = tok.CreateStreamDecoder();
        var chunks = ids.Select(decoder.Append).ToList();
        string rest = decoder.Flush();
        if (rest.Length > 0)
            chunks.Add(rest);
        return [.. chunks];
    }
}
