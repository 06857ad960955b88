using Tern.Conversion.Tokenizers;
using Tern.Gguf;
using Tern.Text;

namespace Tern.Tests.Text;

/// <summary>
/// Ids from Google's sentencepiece itself, for vocabularies that reach GGUF through Tern's converters. Produced with
/// python3-sentencepiece 0.1.97 (Debian package):
/// <code>
/// PYTHONPATH=/usr/lib/python3/dist-packages python3 -c "import sentencepiece as spm; \
///   sp = spm.SentencePieceProcessor(model_file='MODEL'); print(sp.encode('TEXT'))"
/// </code>
/// with MODEL shared/data/models/bitllama2c/tok512.model or shared/data/tokenizers/llama2/tokenizer.model.
/// </summary>
public sealed class SentencePieceReferenceTests
{
    [Theory]
    [InlineData("Once upon a time", new[] { 403, 407, 261, 378 })]
    [InlineData("Once upon a time, there was a little girl named Lily.", new[] { 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426 })]
    [InlineData("Tom said: \"Hi!\" 🦙 café", new[] { 274, 287, 336, 467, 313, 440, 417, 443, 436, 410, 243, 162, 169, 156, 280, 412, 431, 485 })]
    public void Tok512_from_llama2c_bin_matches_sentencepiece(string text, int[] expected)
    {
        var metadata = new GgufMetadata();
        Llama2cTokenizerReader.Read(TestData.SharedDataPath("models", "bitllama2c", "tok512.bin"), 512).WriteTo(metadata);
        var tok = GgufTokenizer.Create(metadata);

        Assert.Equal(512, tok.VocabularySize);
        Assert.Equal(expected, tok.Encode(text, addBos: false));
        Assert.Equal([tok.BosId, .. expected], tok.Encode(text, addBos: true));
        Assert.Equal(text, tok.Decode(tok.Encode(text, addBos: true)));
    }

    [Theory]
    [InlineData("Once upon a time", new[] { 9038, 2501, 263, 931 })]
    [InlineData("  Hello, world! 🦙 日本語のテキスト", new[] { 259, 15043, 29892, 3186, 29991, 29871, 243, 162, 169, 156, 29871, 30325, 30346, 30968, 30199, 30572, 30454, 30255, 30279 })]
    [InlineData("   ", new[] { 268 })]
    public void Llama2_from_tokenizer_model_matches_sentencepiece(string text, int[] expected)
    {
        var metadata = new GgufMetadata();
        TokenizerSource.Detect(TestData.SharedDataPath("tokenizers", "llama2")).Load().WriteTo(metadata);
        var tok = GgufTokenizer.Create(metadata);

        Assert.Equal(expected, tok.Encode(text, addBos: false));
        Assert.Equal(text, tok.Decode(tok.Encode(text, addBos: false)));
    }
}
