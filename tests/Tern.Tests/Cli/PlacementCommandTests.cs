using System.Text.Json;
using Tern.Cuda;

namespace Tern.Tests.Cli;

/// <summary>
/// The GPU flags (--device, -ngl, -ot, -mg) on a machine without CUDA (CI): asking for the GPU prints one line on
/// stderr and runs on the CPU with the same output; bad values end in one "error:" line naming the flag.
/// </summary>
public class PlacementCommandTests
{
    private static readonly string[] Greedy = ["-n", "4", "-p", "hi", "--temp", "0"];

    private static bool CudaPresent()
    {
        if (!CudaAvailability.TryCreate(out var context, out _))
            return false;
        context.Dispose();
        return true;
    }

    [Theory]
    [InlineData("--device", "cuda")]
    [InlineData("-ngl", "2")]
    [InlineData("-ot", "output=cuda")]
    public void AskingForCudaWithoutItSaysSoOnceAndRunsOnTheCpu(string flag, string value)
    {
        if (CudaPresent())
            return;
        var cpu = TernProcess.Run(["run", "--device", "cpu", .. Greedy]);
        var cuda = TernProcess.Run(["run", flag, value, .. Greedy]);
        CliAssert.Succeeded(cpu);
        CliAssert.Succeeded(cuda);
        Assert.Equal(cpu.Stdout, cuda.Stdout);
        var notices = cuda.Stderr.Split('\n').Where(l => l.StartsWith("tern: CUDA not used: ", StringComparison.Ordinal)).ToList();
        var notice = Assert.Single(notices);
        Assert.EndsWith("; running on the CPU.", notice.TrimEnd('\r'), StringComparison.Ordinal);
        CliAssert.NoStackTrace(cuda);
        Assert.DoesNotContain("CUDA not used", cpu.Stderr, StringComparison.Ordinal);
        Assert.Contains("backend: CPU", cuda.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void WithoutGpuFlagsNothingIsSaidAboutCuda()
    {
        var r = TernProcess.Run(["run", "--json", .. Greedy]);
        CliAssert.Succeeded(r);
        Assert.DoesNotContain("CUDA", r.Stderr, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(r.Stdout);
        Assert.Equal("CPU", json.RootElement.GetProperty("backend").GetString());
    }

    [Theory]
    [InlineData(new[] { "-ngl", "-1" }, new[] { "-ngl -1" })]
    [InlineData(new[] { "-ot", "x(" }, new[] { "--override-tensor", "x(" })]
    [InlineData(new[] { "-ot", "x(=cuda" }, new[] { "--override-tensor", "not a valid regular expression" })]
    [InlineData(new[] { "-ot", "output=tpu" }, new[] { "--override-tensor", "tpu" })]
    [InlineData(new[] { "--device", "gpu" }, new[] { "--device gpu" })]
    [InlineData(new[] { "--device", "cpu", "-ngl", "2" }, new[] { "-ngl 2", "--device cpu" })]
    [InlineData(new[] { "--device", "cpu", "-ot", "output=cuda" }, new[] { "--override-tensor", "--device cpu" })]
    [InlineData(new[] { "-mg", "-1" }, new[] { "--main-gpu -1" })]
    public void BadValuesAreOneLineNamingTheFlag(string[] flags, string[] mentions)
    {
        CliAssert.UserError(TernProcess.Run(["run", .. flags, .. Greedy]), mentions);
        CliAssert.UserError(TernProcess.Run(["logits", "-m", TestData.ShippedModelPath, "-p", "hi", .. flags]), mentions);
    }

    [Fact]
    public void EveryModelCommandTakesTheFlags()
    {
        foreach (string command in new[] { "run", "bench", "perplexity", "chat", "logits", "serve" })
        {
            var help = TernProcess.Run(command, "--help");
            CliAssert.Succeeded(help);
            foreach (string flag in new[] { "--device", "--n-gpu-layers", "-ngl", "--override-tensor", "-ot", "--main-gpu", "-mg" })
                Assert.Contains(flag, help.Stdout, StringComparison.Ordinal);
        }
    }
}
