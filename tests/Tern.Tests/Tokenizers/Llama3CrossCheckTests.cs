using System.Text.Json;
using Tern.Conversion.Tokenizers;
using Tern.Gguf;

namespace Tern.Tests.Tokenizers;

/// <summary>
/// Llama 3's tokenizer ships twice: Meta's tiktoken ranks and Hugging Face's tokenizer.json converted from them.
/// Both readers must give the same GGUF vocabulary, which checks the byte-to-character table, the special token
/// list and the merge reconstruction against an independent conversion.
/// </summary>
public class Llama3CrossCheckTests(Llama3Fixture llama3) : IClassFixture<Llama3Fixture>
{
    [Fact]
    public void TokensTypesAndMerges_AreIdenticalFromBothFiles()
    {
        var json = llama3.FromJson;
        var tik = llama3.FromTiktoken;

        Assert.Equal(128_256, json.Tokens.Length);
        Assert.Equal(json.Tokens, tik.Tokens);
        Assert.Equal(json.TokenTypes, tik.TokenTypes);
        Assert.Equal(json.Merges!.Length, tik.Merges!.Length);
        for (int i = 0; i < json.Merges.Length; i++)
            Assert.True(json.Merges[i] == tik.Merges[i], $"merge {i}: tokenizer.json \"{json.Merges[i]}\", from ranks \"{tik.Merges[i]}\"");

        Assert.Equal(("gpt2", "llama-bpe"), (json.Model, json.Pre));
        Assert.Equal((json.Model, json.Pre), (tik.Model, tik.Pre));
        Assert.Null(json.Scores);
        Assert.Empty(json.Warnings);
        Assert.Empty(tik.Warnings);
    }

    [Fact]
    public void AddedTokens_AreControl_AndEverythingElseNormal()
    {
        // Independent of the reader: the ids tokenizer.json lists as special added tokens.
        using var doc = JsonDocument.Parse(File.ReadAllBytes(TestData.Llama3Json));
        var special = doc.RootElement.GetProperty("added_tokens").EnumerateArray()
            .Where(t => t.GetProperty("special").GetBoolean())
            .Select(t => t.GetProperty("id").GetInt32())
            .ToHashSet();
        Assert.Equal(Llama3SpecialTokens.Count, special.Count);

        var data = llama3.FromJson;
        for (int i = 0; i < data.Tokens.Length; i++)
            Assert.Equal(special.Contains(i) ? (int)GgufTokenType.Control : (int)GgufTokenType.Normal, data.TokenTypes[i]);
        Assert.Equal(Llama3SpecialTokens.Names, data.Tokens[^Llama3SpecialTokens.Count..]);
    }

    [Fact]
    public void Folder_WithTokenizerJson_AndFolder_WithOnlyTiktoken_GiveTheSameMetadata()
    {
        string dir = Directory.CreateTempSubdirectory("tern-tok-").FullName;
        try
        {
            File.CreateSymbolicLink(Path.Combine(dir, TokenizerSource.TokenizerModelName), TestData.Llama3Tiktoken);
            File.CreateSymbolicLink(Path.Combine(dir, TokenizerSource.TokenizerConfigName), TestData.Llama3Config);

            var tikSource = TokenizerSource.Detect(dir);
            Assert.Equal(TokenizerSourceKind.Tiktoken, tikSource.Kind);
            var jsonSource = TokenizerSource.Detect(TestData.Llama3Folder);
            Assert.Equal(TokenizerSourceKind.HuggingFaceJson, jsonSource.Kind);

            var a = new GgufMetadata();
            var b = new GgufMetadata();
            jsonSource.Load().WriteTo(a);
            tikSource.Load().WriteTo(b);
            Assert.Equal(a.Keys, b.Keys);
            foreach (string key in a.Keys)
                Assert.True(a[key].Equals(b[key]), $"{key}: {a[key]} vs {b[key]}");

            // The config's names, resolved through the vocabulary, are Meta's documented ids.
            Assert.Equal(128_000u, a.GetUInt32(GgufKeys.TokenizerBosId));
            Assert.Equal(128_001u, a.GetUInt32(GgufKeys.TokenizerEosId));
            Assert.Equal(GgufValueType.UInt32, a[GgufKeys.TokenizerBosId].Type);
            Assert.Equal(GgufValueType.Int32, a[GgufKeys.TokenizerTokenType].ElementType);
            Assert.Equal(GgufValueType.String, a[GgufKeys.TokenizerMerges].ElementType);
            Assert.False(a.ContainsKey(GgufKeys.TokenizerScores));

            using var config = JsonDocument.Parse(File.ReadAllBytes(TestData.Llama3Config));
            Assert.Equal(config.RootElement.GetProperty("chat_template").GetString(), a.GetString(GgufKeys.ChatTemplate));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
