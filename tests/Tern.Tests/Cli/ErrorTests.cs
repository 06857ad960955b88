namespace Tern.Tests.Cli;

/// <summary>Bad input ends in one "error: …" line on stderr and exit code 1, never a stack trace.</summary>
public class ErrorTests
{
    private static readonly string Fixture = TestData.SharedDataPath("fixtures", "bitnet_tiny_tq.gguf");
    private static readonly string Model = TestData.SharedDataPath("models", "bitllama2c", "bit_model_3M.bin");

    [Fact]
    public void MissingFile()
    {
        using var temp = TestData.NewTempFolder();
        string missing = temp.File("missing.gguf");
        CliAssert.UserError(TernProcess.Run("info", missing), missing);
    }

    [Fact]
    public void TruncatedGguf()
    {
        using var temp = TestData.NewTempFolder();
        string truncated = temp.File("half.gguf");
        var bytes = File.ReadAllBytes(Fixture);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);

        CliAssert.UserError(TernProcess.Run("info", truncated, "--json"), truncated, "truncated");
        CliAssert.UserError(TernProcess.Run("quantize", truncated, temp.File("out.gguf"), "i2_s"), truncated);
        Assert.False(File.Exists(temp.File("out.gguf")));
    }

    [Fact]
    public void CorruptConfigJson()
    {
        using var temp = TestData.NewTempFolder();
        File.WriteAllText(temp.File("config.json"), "{\"architectures\": [");
        var result = TernProcess.Run("convert", temp.Path, "-o", temp.File("out.gguf"));
        CliAssert.UserError(result, "config.json");
        Assert.False(File.Exists(temp.File("out.gguf")));
    }

    [Fact]
    public void UnknownTypeIsRejectedByTheParser()
    {
        using var temp = TestData.NewTempFolder();
        var result = TernProcess.Run("convert", Model, "-o", temp.File("out.gguf"), "--type", "q5_k");
        CliAssert.ParseError(result, "q5_k");
        Assert.Empty(Directory.EnumerateFileSystemEntries(temp.Path));
    }

    [Fact]
    public void QuantizeToAFloatTypeIsRejected()
    {
        using var temp = TestData.NewTempFolder();
        var result = TernProcess.Run("quantize", Fixture, temp.File("out.gguf"), "f16");
        CliAssert.ParseError(result, "f16", "tq2_0");
        Assert.Empty(Directory.EnumerateFileSystemEntries(temp.Path));
    }

    [Fact]
    public void OutputInAFolderThatDoesNotExist()
    {
        using var temp = TestData.NewTempFolder();
        string folder = temp.File("no-such-folder");
        var result = TernProcess.Run("convert", Model, "-o", Path.Combine(folder, "out.gguf"));
        CliAssert.UserError(result, folder);
        Assert.DoesNotContain(".tmp", result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(folder));

        CliAssert.UserError(TernProcess.Run("quantize", Fixture, Path.Combine(folder, "out.gguf"), "i2_s"), folder);
    }

    [Fact]
    public void QuantizeOntoItsOwnInput()
    {
        using var temp = TestData.NewTempFolder();
        string copy = temp.File("model.gguf");
        File.Copy(Fixture, copy);
        CliAssert.UserError(TernProcess.Run("quantize", copy, copy, "tq1_0"), copy);
        Assert.Equal(File.ReadAllBytes(Fixture), File.ReadAllBytes(copy));
    }

    [Fact]
    public void LongMessagesStayOnOneLine()
    {
        // Deep enough that "error: <path>: …" is far past the 80 columns Spectre assumes without a terminal.
        using var temp = TestData.NewTempFolder();
        string deep = Path.Combine(temp.Path, new string('d', 60), new string('e', 60));
        Directory.CreateDirectory(deep);
        string missing = Path.Combine(deep, "missing-model-file-with-a-long-name.gguf");
        CliAssert.UserError(TernProcess.Run("info", missing), missing);
    }
}
