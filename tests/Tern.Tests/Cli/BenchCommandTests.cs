using System.Text.Json;

namespace Tern.Tests.Cli;

public class BenchCommandTests : IDisposable
{
    private readonly TempFolder _dir = TestData.NewTempFolder();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void TableAndLlamaBenchJson()
    {
        string model = _dir.File("bit3m.gguf");
        CliAssert.Succeeded(TernProcess.Run("convert", TestData.SharedDataPath("models", "bitllama2c", "bit_model_3M.bin"), "-o", model));

        var table = TernProcess.Run("bench", "-m", model, "-p", "16", "-n", "8", "-r", "2");
        CliAssert.Succeeded(table);
        Assert.Contains("pp16", table.Stdout, StringComparison.Ordinal);
        Assert.Contains("tg8", table.Stdout, StringComparison.Ordinal);
        Assert.Contains(" ± ", table.Stdout, StringComparison.Ordinal);
        Assert.Contains(" CPU ", table.Stdout, StringComparison.Ordinal);

        var json = TernProcess.Run("bench", "-m", model, "-p", "16", "-n", "8", "-r", "3", "-t", "2", "-o", "json");
        CliAssert.Succeeded(json);
        using var doc = JsonDocument.Parse(json.Stdout);
        var rows = doc.RootElement.EnumerateArray().ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal((16, 0), (rows[0].GetProperty("n_prompt").GetInt32(), rows[0].GetProperty("n_gen").GetInt32()));
        Assert.Equal((0, 8), (rows[1].GetProperty("n_prompt").GetInt32(), rows[1].GetProperty("n_gen").GetInt32()));
        foreach (var row in rows)
        {
            Assert.Equal(3, row.GetProperty("samples_ns").GetArrayLength());
            // llama-bench's definitions: each sample's speed is its tokens over its time, avg_ts their mean.
            double tokens = row.GetProperty("n_prompt").GetInt32() + row.GetProperty("n_gen").GetInt32();
            var ns = row.GetProperty("samples_ns").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            var ts = row.GetProperty("samples_ts").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            for (int i = 0; i < ns.Length; i++)
                Assert.Equal(tokens / (ns[i] / 1e9), ts[i], 1e-3 * ts[i]);
            Assert.Equal(ts.Average(), row.GetProperty("avg_ts").GetDouble(), 1e-3 * ts.Average());
            Assert.Equal(2, row.GetProperty("n_threads").GetInt32());
            Assert.True(row.GetProperty("model_size").GetInt64() > 1_000_000);
            // Where it computed, in llama-bench's fields, and Tern's own line for it.
            Assert.Equal("CPU", row.GetProperty("backends").GetString());
            Assert.Equal(0, row.GetProperty("n_gpu_layers").GetInt32());
            Assert.Equal("", row.GetProperty("gpu_info").GetString());
            Assert.Equal("none", row.GetProperty("tensor_buft_overrides").GetString());
            Assert.Equal("CPU", row.GetProperty("placement").GetString());
        }

        CliAssert.UserError(TernProcess.Run("bench", "-m", model, "-r", "0"), "-r 0");
        CliAssert.UserError(TernProcess.Run("bench", "-m", model, "-p", "600", "-n", "8"), "context");
    }
}

public class PerplexityCommandTests : IDisposable
{
    private readonly TempFolder _dir = TestData.NewTempFolder();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void PrintsRunningValuesAndTheFinalEstimateAsLlamaCppDoes()
    {
        string model = _dir.File("s.gguf");
        CliAssert.Succeeded(TernProcess.Run("convert", TestData.SharedDataPath("models", "stories260K", "stories260K.bin"), "-o", model, "--type", "f32", "--token-embedding-type", "f32"));
        var r = TernProcess.Run("perplexity", "-m", model, "-f", TestData.SharedDataPath("corpora", "tinystories", "validation_100.txt"), "-c", "128", "--chunks", "2");
        CliAssert.Succeeded(r);
        Assert.StartsWith("[1]62.4", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("[2]12.5", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("Final estimate: PPL = 12.5", r.Stdout, StringComparison.Ordinal);

        File.WriteAllBytes(_dir.File("bad.txt"), [0x41, 0xFF, 0xFE]);
        CliAssert.UserError(TernProcess.Run("perplexity", "-m", model, "-f", _dir.File("bad.txt")), "UTF-8");
    }
}
