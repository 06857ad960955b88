using System.Text.Json;

namespace Tern.Tests.Cli;

/// <summary>`tern convert` on the real bitllama2.c 3M model, then `tern info` and `tern quantize` on what it wrote.</summary>
public class ConvertAndQuantizeTests
{
    private static readonly string Model = TestData.SharedDataPath("models", "bitllama2c", "bit_model_3M.bin");

    // 8 layers × 7 projections; plus the F16 embedding and 33 F32 norms (4 per layer and output_norm).
    private const int TernaryTensors = 56;
    private const int AllTensors = 90;

    [Fact]
    public void ConvertWritesI2SThenQuantizeRewritesAsTQ2_0()
    {
        using var temp = TestData.NewTempFolder();
        string converted = temp.File("model.gguf");

        var convert = TernProcess.Run("convert", Model, "-o", converted);
        CliAssert.Succeeded(convert);
        Assert.True(File.Exists(converted));
        Assert.Contains($"{AllTensors} tensors", convert.Stdout, StringComparison.Ordinal);

        using (var info = Info(converted))
        {
            Assert.Equal("bitnet", info.RootElement.GetProperty("architecture").GetString());
            var types = TensorTypes(info);
            Assert.Equal(AllTensors, types.Count);
            Assert.Equal(TernaryTensors, types.Count(t => t == "I2_S"));
        }

        string requantized = temp.File("model-tq2_0.gguf");
        var quantize = TernProcess.Run("quantize", converted, requantized, "tq2_0");
        CliAssert.Succeeded(quantize);
        using (var info = Info(requantized))
        {
            var types = TensorTypes(info);
            Assert.Equal(AllTensors, types.Count);
            Assert.Equal(TernaryTensors, types.Count(t => t == "TQ2_0"));
            Assert.DoesNotContain("I2_S", types);
        }
    }

    [Fact]
    public void QuantizeBetweenBlockTypesRoundTripsByteForByte()
    {
        using var temp = TestData.NewTempFolder();
        string tq2 = temp.File("tq2.gguf"), tq1 = temp.File("tq1.gguf"), back = temp.File("tq2-again.gguf");
        CliAssert.Succeeded(TernProcess.Run("convert", Model, "-o", tq2, "--type", "tq2_0"));
        CliAssert.Succeeded(TernProcess.Run("quantize", tq2, tq1, "TQ1_0"));
        CliAssert.Succeeded(TernProcess.Run("quantize", tq1, back, "tq2_0"));

        // TQ1_0 and TQ2_0 both keep one F16 scale per 256 weights, so nothing is lost either way.
        Assert.Equal(File.ReadAllBytes(tq2), File.ReadAllBytes(back));
    }

    [Fact]
    public void DryRunPrintsThePlanAndWritesNothing()
    {
        using var temp = TestData.NewTempFolder();
        string output = temp.File("model.gguf");

        var result = TernProcess.Run("convert", Model, "-o", output, "--dry-run");
        CliAssert.Succeeded(result);
        Assert.Empty(Directory.EnumerateFileSystemEntries(temp.Path));
        Assert.Contains("blk.0.attn_q.weight", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("I2_S", result.Stdout, StringComparison.Ordinal);
        Assert.Contains($"{AllTensors} tensors", result.Stdout, StringComparison.Ordinal);
    }

    private static JsonDocument Info(string path)
    {
        var result = TernProcess.Run("info", path, "--json");
        CliAssert.Succeeded(result);
        return JsonDocument.Parse(result.Stdout);
    }

    private static List<string> TensorTypes(JsonDocument info) =>
        info.RootElement.GetProperty("tensors").EnumerateArray().Select(t => t.GetProperty("type").GetString()!).ToList();
}
