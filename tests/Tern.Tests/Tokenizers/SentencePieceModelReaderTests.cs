using Tern.Conversion.Tokenizers;
using Tern.Gguf;

namespace Tern.Tests.Tokenizers;

public class SentencePieceModelReaderTests
{
    private static GgufMetadata ReadMetadata(string path)
    {
        using var file = GgufFile.Open(path);
        return file.Metadata;
    }

    /// <summary>
    /// The key test: ggml-vocab-llama-spm.gguf was written by llama.cpp's convert_hf_to_gguf.py from the same
    /// Llama 2 tokenizer.model, so every tokenizer key it holds must come out of our reader with the same value
    /// and the same GGUF type.
    /// </summary>
    [Fact]
    public void Llama2_MatchesTheVocabularyLlamaCppWrote()
    {
        var reference = ReadMetadata(TestData.LlamaSpmGguf);
        var ours = new GgufMetadata();
        SentencePieceModelReader.Read(TestData.Llama2Model).WriteTo(ours);

        var referenceKeys = reference.Keys.Where(k => k.StartsWith("tokenizer.", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(referenceKeys);
        foreach (string key in referenceKeys)
        {
            // add_bos/add_eos came from the Hugging Face tokenizer_config.json beside the .model; a bare
            // SentencePiece file does not state them, and llama.cpp's defaults for "llama" vocabularies
            // (add BOS, no EOS) must then equal what the reference wrote.
            if (!ours.ContainsKey(key) && key is GgufKeys.TokenizerAddBos or GgufKeys.TokenizerAddEos)
            {
                bool llamaCppDefault = key == GgufKeys.TokenizerAddBos;
                Assert.Equal(llamaCppDefault, reference.GetBool(key));
                continue;
            }

            Assert.True(ours.ContainsKey(key), $"missing {key}");
            Assert.True(reference[key].Equals(ours[key]), $"{key}: llama.cpp wrote {reference[key]}, we wrote {ours[key]}");
        }

        // float equality would let -0 and +0 pass for each other; the scores must match bit for bit.
        var expectedScores = reference.GetArray<float>(GgufKeys.TokenizerScores);
        var actualScores = ours.GetArray<float>(GgufKeys.TokenizerScores);
        Assert.Equal(expectedScores.Select(BitConverter.SingleToInt32Bits), actualScores.Select(BitConverter.SingleToInt32Bits));

        // The keys we add beyond the reference: add_space_prefix, which llama.cpp defaults to true for "llama"
        // vocabularies; the Llama 2 normalizer's add_dummy_prefix must agree with that default.
        var extra = ours.Keys.Except(referenceKeys).ToList();
        Assert.Equal([GgufKeys.TokenizerAddSpacePrefix], extra);
        Assert.True(ours.GetBool(GgufKeys.TokenizerAddSpacePrefix));

        // Same relative order as gguf-py writes them.
        Assert.Equal(referenceKeys.Where(ours.ContainsKey), ours.Keys.Where(referenceKeys.Contains));
    }

    [Fact]
    public void Tok512_UsesProtoDefaultsForAbsentFields()
    {
        // tok512.model's trainer_spec sets none of unk/bos/eos/pad_id and its normalizer_spec omits
        // add_dummy_prefix; the pieces themselves say which ids are <unk>, <s>, </s>.
        var data = SentencePieceModelReader.Read(TestData.Tok512Model);
        Assert.Equal(512, data.Tokens.Length);
        Assert.Equal(data.FindToken("<unk>"), data.UnknownId);
        Assert.Equal(data.FindToken("<s>"), data.BosId);
        Assert.Equal(data.FindToken("</s>"), data.EosId);
        Assert.Null(data.PaddingId);
        Assert.True(data.AddSpacePrefix);
        Assert.Equal((int)GgufTokenType.Unknown, data.TokenTypes[data.UnknownId!.Value]);
        Assert.Equal((int)GgufTokenType.Control, data.TokenTypes[data.BosId!.Value]);
        Assert.Equal(256, data.TokenTypes.Count(t => t == (int)GgufTokenType.Byte));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(100)]
    [InlineData(7000)]
    public void TruncatedModel_FailsNamingTheFile(int keep)
    {
        byte[] bytes = File.ReadAllBytes(TestData.Tok512Model);
        var e = Assert.Throws<InvalidDataException>(() => SentencePieceModelReader.Parse(bytes.AsSpan(0, keep), "cut.model"));
        Assert.Contains("cut.model", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NotProtobuf_FailsNamingTheFile()
    {
        var e = Assert.Throws<InvalidDataException>(() => SentencePieceModelReader.Parse("IQ== 0\nIg== 1\n"u8, "tiktoken.model"));
        Assert.Contains("tiktoken.model", e.Message, StringComparison.Ordinal);
    }
}
