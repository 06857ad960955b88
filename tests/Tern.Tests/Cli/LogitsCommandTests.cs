using System.Text.Json;
using Tern.Tests.Inference;

namespace Tern.Tests.Cli;

/// <summary>`tern logits` on the real 3M model, checked against `tern run`'s greedy choice.</summary>
public class LogitsCommandTests(Bit3MModel bit3m) : IClassFixture<Bit3MModel>
{
    [Theory]
    [InlineData("Once upon a time")]
    [InlineData("Tom and")]
    public void TheTopTokenIsRunsFirstGreedyToken(string prompt)
    {
        var logits = TernProcess.Run("logits", "-m", bit3m.Path, "-p", prompt, "--top", "20", "--json");
        var run = TernProcess.Run("run", "-m", bit3m.Path, "-p", prompt, "-n", "1", "--temp", "0", "--json");
        CliAssert.Succeeded(logits);
        CliAssert.Succeeded(run);
        using var top = JsonDocument.Parse(logits.Stdout);
        using var greedy = JsonDocument.Parse(run.Stdout);

        Assert.Equal(Ids(greedy.RootElement.GetProperty("prompt_tokens")), Ids(top.RootElement.GetProperty("prompt_tokens")));
        var rows = top.RootElement.GetProperty("top").EnumerateArray().ToList();
        Assert.Equal(20, rows.Count);
        Assert.Equal(greedy.RootElement.GetProperty("tokens")[0].GetInt32(), rows[0].GetProperty("id").GetInt32());
        var logitValues = rows.Select(r => r.GetProperty("logit").GetDouble()).ToList();
        var probabilities = rows.Select(r => r.GetProperty("prob").GetDouble()).ToList();
        Assert.Equal(logitValues.OrderByDescending(l => l), logitValues);
        Assert.Equal(probabilities.OrderByDescending(p => p), probabilities);
        Assert.All(probabilities, p => Assert.InRange(p, 0, 1));
        Assert.True(probabilities.Sum() <= 1 + 1e-9, $"probabilities sum to {probabilities.Sum()}");
        Assert.Equal(20, rows.Select(r => r.GetProperty("id").GetInt32()).Distinct().Count());
    }

    [Fact]
    public void TheWholeVocabularyAsATableSumsToOneAndEscapesItsText()
    {
        var json = TernProcess.Run("logits", "-m", bit3m.Path, "-p", "Once upon a time", "--top", "100000", "--json");
        CliAssert.Succeeded(json);
        using var doc = JsonDocument.Parse(json.Stdout);
        var probabilities = doc.RootElement.GetProperty("top").EnumerateArray().Select(r => r.GetProperty("prob").GetDouble()).ToList();
        Assert.Equal(bit3m.Model.Config.VocabSize, probabilities.Count);
        Assert.InRange(probabilities.Sum(), 1 - 1e-9, 1 + 1e-9);

        var table = TernProcess.Run("logits", "-m", bit3m.Path, "-p", "Once upon a time", "--top", "100000");
        CliAssert.Succeeded(table);
        var lines = table.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("prompt: 5 tokens: 1 ", lines[0], StringComparison.Ordinal);
        // One row per token, besides the prompt line, three border lines and the header: no token text breaks a row.
        Assert.Equal(bit3m.Model.Config.VocabSize + 5, lines.Length);
        Assert.Contains("\"\\n\"", table.Stdout, StringComparison.Ordinal);
        Assert.Contains("\" the\"", table.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"\\xE2\"", table.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"</s>\"", table.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"│\s+1 │\s+432 │ "","" ", lines[4]);
    }

    [Fact]
    public void BadArgumentsGetOneClearLine()
    {
        CliAssert.ParseError(TernProcess.Run("logits", "-p", "x"), "--model");
        CliAssert.UserError(TernProcess.Run("logits", "-m", bit3m.Path, "-p", "x", "--top", "0"), "--top 0");
        CliAssert.UserError(TernProcess.Run("logits", "-m", bit3m.Path, "-p", "Once upon a time there was a cat", "-c", "4"), "longer than the context", "-c");
        CliAssert.UserError(TernProcess.Run("logits", "-m", bit3m.Path, "-p", "x", "-t", "0"), "-t 0");
    }

    private static int[] Ids(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetInt32())];
}
