using System.Text.Json;

namespace Tern.Tests.Cli;

/// <summary>`tern run` end to end on the real bitllama2.c 3M model converted by `tern convert`.</summary>
public class RunCommandTests : IDisposable
{
    private readonly TempFolder _dir = TestData.NewTempFolder();
    private readonly string _model;

    public RunCommandTests()
    {
        _model = _dir.File("bit3m.gguf");
        CliAssert.Succeeded(TernProcess.Run("convert", TestData.SharedDataPath("models", "bitllama2c", "bit_model_3M.bin"), "-o", _model, "--token-embedding-type", "f32"));
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void GreedyGenerationContinuesThePromptAsRunbitDoes()
    {
        var r = TernProcess.Run("run", "-m", _model, "-p", "Once upon a time", "-n", "24", "--temp", "0");
        CliAssert.Succeeded(r);
        // runbit.c's greedy text from BOS starts with these words, so the same prompt tokens continue the same way.
        Assert.StartsWith("Once upon a time, there was a little girl named Lily. She loved to play outside", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("generation: 24 tokens", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void AQ8_0HeadGeneratesTheSameGreedyTextAsTheStoredF16Head()
    {
        string f16 = _dir.File("bit3m-f16.gguf");
        CliAssert.Succeeded(TernProcess.Run("convert", TestData.SharedDataPath("models", "bitllama2c", "bit_model_3M.bin"), "-o", f16, "--token-embedding-type", "f16"));
        var stored = TernProcess.Run("run", "-m", f16, "-p", "Once upon a time", "-n", "48", "--temp", "0", "--json");
        var q8 = TernProcess.Run("run", "-m", f16, "-p", "Once upon a time", "-n", "48", "--temp", "0", "--json", "--head-type", "q8_0");
        CliAssert.Succeeded(stored);
        CliAssert.Succeeded(q8);
        using var a = JsonDocument.Parse(stored.Stdout);
        using var b = JsonDocument.Parse(q8.Stdout);
        Assert.Equal(a.RootElement.GetProperty("text").GetString(), b.RootElement.GetProperty("text").GetString());
        Assert.StartsWith(", there was a little girl named Lily", a.RootElement.GetProperty("text").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownHeadTypeIsRefused()
    {
        var r = TernProcess.Run("run", "-m", _model, "-p", "Tom", "-n", "1", "--head-type", "q4_0");
        Assert.NotEqual(0, r.ExitCode);
    }

    [Fact]
    public void JsonGivesTokenIdsTextAndTheSeed()
    {
        var a = TernProcess.Run("run", "-m", _model, "-p", "Tom", "-n", "12", "--seed", "11", "--json");
        var b = TernProcess.Run("run", "-m", _model, "-p", "Tom", "-n", "12", "--seed", "11", "--json");
        CliAssert.Succeeded(a);
        using var doc = JsonDocument.Parse(a.Stdout);
        var root = doc.RootElement;
        Assert.Equal(1, root.GetProperty("prompt_tokens")[0].GetInt32());
        Assert.Equal(12, root.GetProperty("tokens").GetArrayLength());
        Assert.Equal(11, root.GetProperty("seed").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(root.GetProperty("text").GetString()));
        using var other = JsonDocument.Parse(b.Stdout);
        Assert.Equal(root.GetProperty("text").GetString(), other.RootElement.GetProperty("text").GetString());
    }

    [Fact]
    public void BadArgumentsGetOneClearLine()
    {
        CliAssert.UserError(TernProcess.Run("run", "-m", _model, "-p", "x", "-n", "-1"), "-n -1");
        CliAssert.UserError(TernProcess.Run("run", "-m", _model, "-p", "x", "-t", "0"), "-t 0");
        CliAssert.UserError(TernProcess.Run("run", "-m", _model, "-p", "Once upon a time there was a cat", "-c", "4"), "longer than the context");
        CliAssert.UserError(TernProcess.Run("run", "-m", _model, "-p", "x", "--top-p", "0"), "top-p");
        CliAssert.UserError(TernProcess.Run("run", "-m", _dir.File("absent.gguf"), "-p", "x"), "absent.gguf");
    }
}

/// <summary>
/// The same greedy generation under every instruction-set level the runtime can be limited to (as ImageSharp tests
/// its paths): AVX-512, AVX2, SSE and no intrinsics at all must produce the same text, because every kernel path
/// computes the same integers.
/// </summary>
public class InstructionSetPathTests : IDisposable
{
    private readonly TempFolder _dir = TestData.NewTempFolder();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void EveryInstructionSetLevelGeneratesTheSameText()
    {
        string model = _dir.File("bit3m.gguf");
        CliAssert.Succeeded(TernProcess.Run("convert", TestData.SharedDataPath("models", "bitllama2c", "bit_model_3M.bin"), "-o", model));
        string[] run = ["run", "-m", model, "-p", "Once upon a time", "-n", "32", "--temp", "0"];
        var reference = TernProcess.Run(run);
        CliAssert.Succeeded(reference);
        foreach (var variable in new[] { "DOTNET_EnableAVX512F", "DOTNET_EnableAVX2", "DOTNET_EnableSSSE3", "DOTNET_EnableHWIntrinsic" })
        {
            var limited = TernProcess.RunWithEnvironment(new Dictionary<string, string> { [variable] = "0" }, run);
            CliAssert.Succeeded(limited);
            Assert.True(reference.Stdout == limited.Stdout, $"{variable}=0 generated\n{limited.Stdout}\ninstead of\n{reference.Stdout}");
        }
    }
}

public class ThreadCountTests : IDisposable
{
    private readonly TempFolder _dir = TestData.NewTempFolder();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void OneTwoAndThreeThreadsGenerateTheSameText()
    {
        string model = _dir.File("bit3m.gguf");
        CliAssert.Succeeded(TernProcess.Run("convert", TestData.SharedDataPath("models", "bitllama2c", "bit_model_3M.bin"), "-o", model));
        var texts = new[] { "1", "2", "3" }
            .Select(t => TernProcess.Run("run", "-m", model, "-p", "Once upon a time", "-n", "48", "--temp", "0", "-t", t))
            .Select(r =>
            {
                CliAssert.Succeeded(r);
                return r.Stdout;
            })
            .ToList();
        Assert.Equal(texts[0], texts[1]);
        Assert.Equal(texts[0], texts[2]);
    }
}
