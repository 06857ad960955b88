namespace Tern.Tests.Cli;

public class HelpTests
{
    [Fact]
    public void RootHelpListsTheCommands()
    {
        var result = TernProcess.Run("--help");
        CliAssert.Succeeded(result);
        foreach (var command in new[] { "info", "convert", "quantize", "--help", "--version" })
            Assert.Contains(command, result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void ConvertHelpListsItsFlags()
    {
        var result = TernProcess.Run("convert", "--help");
        CliAssert.Succeeded(result);
        string[] flags = ["-o", "--output", "--type", "--token-embedding-type", "--output-tensor-type", "--untie", "--bit-order", "--tokenizer", "--name", "--dry-run"];
        foreach (var flag in flags)
            Assert.Contains(flag, result.Stdout, StringComparison.Ordinal);
        foreach (var type in new[] { "i2_s", "tq2_0", "tq1_0" })
            Assert.Contains(type, result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void ChatAndLogitsHelpListTheirFlags()
    {
        var chat = TernProcess.Run("chat", "--help");
        CliAssert.Succeeded(chat);
        foreach (var flag in new[] { "-m", "-sys", "-n", "-t", "-c", "--temp", "--top-k", "--top-p", "--min-p", "--seed", "--template", "bitnet", "llama3", "plain" })
            Assert.Contains(flag, chat.Stdout, StringComparison.Ordinal);

        var logits = TernProcess.Run("logits", "--help");
        CliAssert.Succeeded(logits);
        foreach (var flag in new[] { "-m", "-p", "--top", "-t", "--json" })
            Assert.Contains(flag, logits.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void InfoAndQuantizeHelpListTheirArguments()
    {
        var info = TernProcess.Run("info", "--help");
        CliAssert.Succeeded(info);
        Assert.Contains("--json", info.Stdout, StringComparison.Ordinal);
        Assert.Contains("--all", info.Stdout, StringComparison.Ordinal);

        var quantize = TernProcess.Run("quantize", "--help");
        CliAssert.Succeeded(quantize);
        foreach (var word in new[] { "IN", "OUT", "tq1_0" })
            Assert.Contains(word, quantize.Stdout, StringComparison.Ordinal);
    }
}
