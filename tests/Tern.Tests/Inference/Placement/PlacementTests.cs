using Tern.Inference.Placement;

namespace Tern.Tests.Inference.Placement;

/// <summary>
/// <see cref="ModelPlacement"/> and <see cref="TensorOverride"/> mean what llama.cpp's -ngl and -ot mean: GPU blocks
/// counted from the last, the head with the last block, a pattern that finds a name (not a whole-name match), the
/// first matching pattern deciding, and bad input refused with a message that names the flag and the fault.
/// </summary>
public class PlacementTests
{
    [Theory]
    [InlineData(0, 30, 30)]
    [InlineData(1, 30, 29)]
    [InlineData(12, 30, 18)]
    [InlineData(30, 30, 0)]
    [InlineData(99, 30, 0)]
    [InlineData(ModelPlacement.AllLayers, 30, 0)]
    [InlineData(-5, 30, 30)]
    public void GpuLayersCountFromTheLastBlock(int gpuLayers, int blocks, int firstGpuLayer) =>
        Assert.Equal(firstGpuLayer, new ModelPlacement { GpuLayers = gpuLayers }.FirstGpuLayer(blocks));

    [Fact]
    public void WithoutOverridesATensorGoesWhereItsLayerIs()
    {
        var placement = new ModelPlacement { GpuLayers = 2 };
        Assert.Equal(ComputeDevice.Cuda, placement.DeviceOf("blk.3.attn_q.weight", ComputeDevice.Cuda));
        Assert.Equal(ComputeDevice.Cpu, placement.DeviceOf("blk.0.attn_q.weight", ComputeDevice.Cpu));
        // The head goes with the last block, whichever side that is.
        Assert.Equal(ComputeDevice.Cuda, placement.DeviceOf("output.weight", ComputeDevice.Cuda));
        Assert.Equal(ComputeDevice.Cpu, ModelPlacement.CpuOnly.DeviceOf("output.weight", ComputeDevice.Cpu));
    }

    [Fact]
    public void TheFirstMatchingOverrideWins()
    {
        var placement = new ModelPlacement
        {
            GpuLayers = ModelPlacement.AllLayers,
            Overrides = [TensorOverride.Parse(@"blk\.1\.ffn=cpu"), TensorOverride.Parse("ffn=cuda"), TensorOverride.Parse("ffn_down=cpu")],
        };
        Assert.Equal(ComputeDevice.Cpu, placement.DeviceOf("blk.1.ffn_up.weight", ComputeDevice.Cuda));
        Assert.Equal(ComputeDevice.Cuda, placement.DeviceOf("blk.2.ffn_down.weight", ComputeDevice.Cpu));
        Assert.Equal(ComputeDevice.Cuda, placement.DeviceOf("blk.2.attn_k.weight", ComputeDevice.Cuda));
        Assert.Equal(ComputeDevice.Cpu, placement.DeviceOf("blk.2.attn_k.weight", ComputeDevice.Cpu));
    }

    [Fact]
    public void APatternFindsPartOfAName()
    {
        var o = TensorOverride.Parse("attn_q=cuda");
        Assert.Matches(o.Pattern, "blk.12.attn_q.weight");
        Assert.DoesNotMatch(TensorOverride.Parse(@"^attn_q=cuda").Pattern, "blk.12.attn_q.weight");
    }

    [Fact]
    public void UsesGpuWhenBlocksOrAnOverrideGoThere()
    {
        Assert.False(ModelPlacement.CpuOnly.UsesGpu(4));
        Assert.True(new ModelPlacement { GpuLayers = 1 }.UsesGpu(4));
        Assert.True(new ModelPlacement { Overrides = [TensorOverride.Parse("output=cuda")] }.UsesGpu(4));
        Assert.False(new ModelPlacement { Overrides = [TensorOverride.Parse("output=cpu")] }.UsesGpu(4));
    }

    [Theory]
    [InlineData("exps=cpu", "exps", ComputeDevice.Cpu)]
    [InlineData("exps=CPU", "exps", ComputeDevice.Cpu)]
    [InlineData("output=cuda", "output", ComputeDevice.Cuda)]
    [InlineData("output=CUDA0", "output", ComputeDevice.Cuda)]
    [InlineData("a=b=cuda", "a=b", ComputeDevice.Cuda)]
    public void ParseSplitsAtTheLastEqualsSign(string text, string pattern, ComputeDevice device)
    {
        var o = TensorOverride.Parse(text);
        Assert.Equal(pattern, o.Pattern.ToString());
        Assert.Equal(device, o.Device);
        Assert.Equal(o.ToString(), TensorOverride.Parse(o.ToString()).ToString());
    }

    [Theory]
    [InlineData("blk", "expected REGEX=cpu or REGEX=cuda")]
    [InlineData("=cuda", "expected REGEX=cpu or REGEX=cuda")]
    [InlineData("blk=", "expected REGEX=cpu or REGEX=cuda")]
    [InlineData("blk=tpu", "unknown device 'tpu'")]
    [InlineData("x(=cuda", "'x(' is not a valid regular expression")]
    public void BadInputIsRefusedNamingTheFlagAndTheFault(string text, string fault)
    {
        var e = Assert.Throws<FormatException>(() => TensorOverride.Parse(text));
        Assert.StartsWith($"--override-tensor '{text}'", e.Message, StringComparison.Ordinal);
        Assert.Contains(fault, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void ParseListTakesLlamaCppsCommaSeparatedPairs()
    {
        var list = TensorOverride.ParseList(@"ffn_down=CPU,blk\.[0-9]+\.attn=cuda");
        Assert.Equal([@"ffn_down", @"blk\.[0-9]+\.attn"], list.Select(o => o.Pattern.ToString()));
        Assert.Equal([ComputeDevice.Cpu, ComputeDevice.Cuda], list.Select(o => o.Device));
        Assert.Single(TensorOverride.ParseList("output=cuda"));
    }

    [Fact]
    public void ParseListKeepsACommaInsideAPattern()
    {
        var list = TensorOverride.ParseList(@"blk\.[0-9]{1,2}\.ffn=cpu,output=cuda");
        Assert.Equal([@"blk\.[0-9]{1,2}\.ffn", "output"], list.Select(o => o.Pattern.ToString()));
        Assert.Matches(list[0].Pattern, "blk.12.ffn_up.weight");
    }

    [Theory]
    [InlineData("a=cpu,")]
    [InlineData("a=cpu,b")]
    [InlineData("x(")]
    public void ParseListRefusesAPieceWithoutDevice(string text)
    {
        var e = Assert.Throws<FormatException>(() => TensorOverride.ParseList(text));
        Assert.StartsWith("--override-tensor", e.Message, StringComparison.Ordinal);
    }
}
