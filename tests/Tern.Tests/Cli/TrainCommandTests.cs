using System.Text;
using System.Text.Json;

namespace Tern.Tests.Cli;

/// <summary>`tern train` end to end on a slice of tinyshakespeare, and its refusals of bad input.</summary>
public class TrainCommandTests
{
    private static readonly string[] TinyShape = ["--layers", "2", "--dim", "128", "--heads", "2", "--ffn", "256", "--ctx", "32", "--batch", "4", "--eval-batches", "2"];

    private static string Slice(TempFolder temp, int chars)
    {
        string path = temp.File("text.txt");
        File.WriteAllText(path, File.ReadAllText(TestData.SharedDataPath("corpora", "tinyshakespeare", "input.txt"))[..chars]);
        return path;
    }

    [Fact]
    public void Trains_exports_and_the_engine_runs_the_result()
    {
        using var temp = TestData.NewTempFolder();
        string data = Slice(temp, 40_000), outDir = temp.File("run");
        var train = TernProcess.Run(["train", "--data", data, "--out", outDir, "--steps", "30", "--eval-interval", "10", .. TinyShape]);
        CliAssert.Succeeded(train);
        Assert.Contains("validation loss", train.Stdout, StringComparison.Ordinal);
        foreach (string file in new[] { "model.gguf", "loss.csv", "loss.png", "checkpoint.safetensors", "command.txt" })
            Assert.True(File.Exists(Path.Combine(outDir, file)), $"{file} is missing");
        var csv = File.ReadAllLines(Path.Combine(outDir, "loss.csv"));
        Assert.Equal(31, csv.Length);
        Assert.StartsWith("tern train --data", File.ReadAllText(Path.Combine(outDir, "command.txt")), StringComparison.Ordinal);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, File.ReadAllBytes(Path.Combine(outDir, "loss.png"))[..4]);

        var info = TernProcess.Run("info", Path.Combine(outDir, "model.gguf"), "--json");
        CliAssert.Succeeded(info);
        using var json = JsonDocument.Parse(info.Stdout);
        Assert.Equal("bitnet-b1.58", json.RootElement.GetProperty("architecture").GetString());

        var run = TernProcess.Run("run", "-m", Path.Combine(outDir, "model.gguf"), "-p", "ROMEO:", "-n", "20", "--temp", "0", "--json");
        CliAssert.Succeeded(run);
        using var generated = JsonDocument.Parse(run.Stdout);
        Assert.Equal(20, generated.RootElement.GetProperty("tokens").GetArrayLength());
    }

    [Fact]
    public void Resume_continues_a_run_to_its_last_step()
    {
        using var temp = TestData.NewTempFolder();
        string data = Slice(temp, 20_000), outDir = temp.File("run");
        CliAssert.Succeeded(TernProcess.Run(["train", "--data", data, "--out", outDir, "--steps", "6", "--eval-interval", "3", "--checkpoint-interval", "3", .. TinyShape]));
        var resumed = TernProcess.Run(["train", "--data", data, "--out", outDir, "--steps", "9", "--eval-interval", "3", "--resume", .. TinyShape]);
        CliAssert.Succeeded(resumed);
        Assert.Contains("step 9", resumed.Stdout, StringComparison.Ordinal);
        Assert.Equal(10, File.ReadAllLines(Path.Combine(outDir, "loss.csv")).Length);
    }

    [Fact]
    public void Bad_input_is_refused_with_a_message()
    {
        using var temp = TestData.NewTempFolder();
        string empty = temp.File("empty.txt");
        File.WriteAllText(empty, "");
        string binary = temp.File("binary.txt");
        File.WriteAllBytes(binary, [.. Encoding.UTF8.GetBytes("fine so far "), 0xC3, 0x28, 0x41]);
        string shortText = temp.File("short.txt");
        File.WriteAllText(shortText, "To be, or not to be: that is the question.");
        string data = Slice(temp, 20_000), outDir = temp.File("run");

        CliAssert.UserError(TernProcess.Run(["train", "--data", empty, "--out", outDir, .. TinyShape]), "empty");
        CliAssert.UserError(TernProcess.Run(["train", "--data", binary, "--out", outDir, .. TinyShape]), "UTF-8", "12");
        CliAssert.UserError(TernProcess.Run(["train", "--data", shortText, "--out", outDir, .. TinyShape]), "32");
        CliAssert.UserError(TernProcess.Run(["train", "--data", temp.File("missing.txt"), "--out", outDir, .. TinyShape]), "missing.txt");
        CliAssert.UserError(TernProcess.Run(["train", "--data", data, "--out", outDir, "--dim", "100", "--heads", "3", "--ffn", "256"]), "100", "3 heads");
        CliAssert.UserError(TernProcess.Run(["train", "--data", data, "--out", outDir, "--dim", "96", "--heads", "2", "--ffn", "256"]), "96", "i2_s", "128");
        CliAssert.UserError(TernProcess.Run(["train", "--data", data, "--out", outDir, "--resume", .. TinyShape]), "checkpoint");
        CliAssert.UserError(TernProcess.Run(["train", "--data", data, "--out", outDir, "--attention-dropout", "1", .. TinyShape]), "--attention-dropout", "[0, 1)");
        Assert.False(Directory.Exists(outDir) && File.Exists(Path.Combine(outDir, "model.gguf")));
    }

    [Fact]
    public void Run_and_chat_without_a_model_use_the_one_Tern_ships()
    {
        Assert.True(File.Exists(TestData.ShippedModelPath), $"the shipped model is missing: {TestData.ShippedModelPath}");
        var run = TernProcess.Run("run", "-p", "ROMEO:", "-n", "40", "--temp", "0");
        CliAssert.Succeeded(run);
        Assert.StartsWith("ROMEO:", run.Stdout, StringComparison.Ordinal);
        Assert.True(run.Stdout.Length > 30, run.Stdout);
        var chat = TernProcess.RunWithInput("What news?\n", "chat", "-n", "24", "--temp", "0");
        CliAssert.Succeeded(chat);
        Assert.False(string.IsNullOrWhiteSpace(chat.Stdout));
    }
}
