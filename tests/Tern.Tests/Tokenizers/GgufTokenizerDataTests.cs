using Tern.Conversion.Tokenizers;
using Tern.Gguf;

namespace Tern.Tests.Tokenizers;

public class GgufTokenizerDataTests
{
    [Fact]
    public void WriteTo_ReplacesAnEarlierVocabularyWhole()
    {
        var metadata = new GgufMetadata();
        metadata.Set(GgufKeys.Architecture, "llama");
        SentencePieceModelReader.Read(TestData.Tok512Model).WriteTo(metadata);
        Assert.True(metadata.ContainsKey(GgufKeys.TokenizerScores));

        var gpt2 = new GgufTokenizerData
        {
            Model = "gpt2",
            Pre = "default",
            Tokens = ["a", "b", "ab"],
            TokenTypes = [1, 1, 1],
            Merges = ["a b"],
        };
        gpt2.WriteTo(metadata);

        Assert.Equal("llama", metadata.GetString(GgufKeys.Architecture));
        Assert.False(metadata.ContainsKey(GgufKeys.TokenizerScores));
        Assert.False(metadata.ContainsKey(GgufKeys.TokenizerBosId));
        Assert.False(metadata.ContainsKey(GgufKeys.TokenizerAddSpacePrefix));
        Assert.Equal(["a", "b", "ab"], metadata.GetArray<string>(GgufKeys.TokenizerTokens));
    }

    [Fact]
    public void WriteTo_RejectsInconsistentData()
    {
        var bad = new GgufTokenizerData { Model = "llama", Pre = "default", Tokens = ["a", "b"], TokenTypes = [1, 1], BosId = 2 };
        Assert.Throws<InvalidOperationException>(() => bad.WriteTo(new GgufMetadata()));
        var badTypes = bad with { BosId = null, TokenTypes = [1] };
        Assert.Throws<InvalidOperationException>(() => badTypes.WriteTo(new GgufMetadata()));
    }

    [Fact]
    public void ByteLevelTable_MatchesGpt2_AndRoundTrips()
    {
        // Anchors of GPT-2's bytes_to_unicode that every byte-level vocabulary shows: space 'Ġ', newline 'Ċ',
        // tab 'ĉ', 0xAD 'Ń' (the last remapped Latin-1 byte), printable ASCII unchanged.
        Assert.Equal('\u0120', ByteLevelEncoding.Encode((byte)' '));
        Assert.Equal('\u010A', ByteLevelEncoding.Encode((byte)'\n'));
        Assert.Equal('\u0109', ByteLevelEncoding.Encode((byte)'\t'));
        Assert.Equal('\u0143', ByteLevelEncoding.Encode(0xAD));
        Assert.Equal('A', ByteLevelEncoding.Encode((byte)'A'));

        byte[] all = Enumerable.Range(0, 256).Select(b => (byte)b).ToArray();
        string encoded = ByteLevelEncoding.Encode(all);
        Assert.Equal(256, encoded.Distinct().Count());
        Assert.Equal(all, ByteLevelEncoding.TryDecode(encoded));
        Assert.Null(ByteLevelEncoding.TryDecode("<|eot_id|> "));
    }
}
