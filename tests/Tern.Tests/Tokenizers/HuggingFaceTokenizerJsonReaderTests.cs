using Tern.Conversion.Tokenizers;

namespace Tern.Tests.Tokenizers;

/// <summary>Small tokenizer.json files built to exercise llama.cpp's rules (convert_hf_to_gguf.py
/// get_vocab_base, gguf-py SpecialVocab) one at a time.</summary>
public sealed class HuggingFaceTokenizerJsonReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tern-tokjson-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string json, string name = "tokenizer.json")
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, json);
        return path;
    }

    private const string ByteLevelPre = """{"type": "ByteLevel", "add_prefix_space": false}""";

    [Fact]
    public void GapsBecomePadTokens_AddedTokensAreTyped_ArrayMergesEncodeSpaces()
    {
        string path = Write($$"""
            {
              "added_tokens": [
                {"id": 5, "content": "<|special|>", "special": true},
                {"id": 6, "content": "<|looks|>", "special": false},
                {"id": 7, "content": "▁user", "special": false}
              ],
              "pre_tokenizer": {{ByteLevelPre}},
              "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "a b": 4},
                        "merges": [["a", "b"], ["a ", "b"]]}
            }
            """);
        var data = HuggingFaceTokenizerJsonReader.Read(path);

        Assert.Equal(["a", "b", "ab", "[PAD3]", "a b", "<|special|>", "<|looks|>", " user"], data.Tokens);
        Assert.Equal([1, 1, 1, 5, 1, 3, 3, 4], data.TokenTypes);
        // gguf-py writes pair merges as "a b", with spaces inside a part as 'Ġ' (U+0120).
        Assert.Equal(["a b", "aĠ b"], data.Merges!);
        Assert.Equal("gpt2", data.Model);
        Assert.Equal("default", data.Pre);
        Assert.Contains(data.Warnings, w => w.Contains("pre-tokenizer not recognized", StringComparison.Ordinal));
    }

    [Fact]
    public void InvalidJson_FailsNamingTheFile()
    {
        string path = Write("""{"model": {"type": "BPE", "vocab": {"a": 0,}}""");
        var e = Assert.Throws<InvalidDataException>(() => HuggingFaceTokenizerJsonReader.Read(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"model": {"type": "WordPiece", "vocab": {"a": 0}}}""", "WordPiece")]
    [InlineData("""{"model": {"type": "BPE", "byte_fallback": true, "vocab": {"a": 0}}}""", "SentencePiece")]
    [InlineData("""{"pre_tokenizer": {"type": "ByteLevel"}, "model": {"type": "BPE", "vocab": {"a": "x"}}}""", "model.vocab")]
    [InlineData("""{"pre_tokenizer": {"type": "ByteLevel"}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": [1]}}""", "merges[0]")]
    [InlineData("""{"pre_tokenizer": {"type": "ByteLevel"}}""", "'model'")]
    public void UnsupportedOrMalformed_FailsSayingWhat(string json, string expected)
    {
        string path = Write(json);
        var e = Assert.Throws<InvalidDataException>(() => HuggingFaceTokenizerJsonReader.Read(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Config_ListOfTemplates_PicksDefault_AndTokenObjectsResolveThroughTheVocabulary()
    {
        string tok = Write($$$"""
            {"added_tokens": [{"id": 2, "content": "<s>", "special": true}, {"id": 3, "content": "</s>", "special": true}],
             "pre_tokenizer": {{{ByteLevelPre}}}, "model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": []}}
            """);
        string cfg = Write("""
            {"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}],
             "bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>", "unk_token": "<missing>",
             "add_bos_token": true, "add_eos_token": false}
            """, "tokenizer_config.json");

        var data = HuggingFaceTokenizerConfig.Read(cfg).ApplyTo(HuggingFaceTokenizerJsonReader.Read(tok));

        Assert.Equal("D", data.ChatTemplate);
        Assert.Equal(2, data.BosId);
        Assert.Equal(3, data.EosId);
        Assert.Null(data.UnknownId);
        Assert.Contains(data.Warnings, w => w.Contains("<missing>", StringComparison.Ordinal));
        Assert.Equal((true, false), (data.AddBos, data.AddEos));
    }

    [Fact]
    public void Config_BadChatTemplate_FailsNamingTheFile()
    {
        string cfg = Write("""{"chat_template": 3}""", "tokenizer_config.json");
        var e = Assert.Throws<InvalidDataException>(() => HuggingFaceTokenizerConfig.Read(cfg));
        Assert.Contains(cfg, e.Message, StringComparison.Ordinal);
    }
}
