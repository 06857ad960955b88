using Tern.Cuda;

namespace Tern.Tests.Cuda;

/// <summary>Which architecture NVRTC is asked for, from the device's compute capability and NVRTC's own list.</summary>
public class CompileTargetTests
{
    private static readonly int[] Nvrtc13Architectures = [75, 80, 86, 87, 89, 90, 100, 103, 110, 120, 121];

    [Fact]
    public void A_device_NVRTC_knows_gets_its_own_machine_code()
    {
        Assert.True(CompileTarget.TrySelect(90, Nvrtc13Architectures, "13.0", out CompileTarget target, out _));
        Assert.Equal(new CompileTarget("sm_90", ProducesCubin: true), target);
        Assert.Equal("--gpu-architecture=sm_90", target.Option);
    }

    [Fact]
    public void A_device_newer_than_NVRTC_gets_PTX_for_the_newest_architecture()
    {
        Assert.True(CompileTarget.TrySelect(130, Nvrtc13Architectures, "13.0", out CompileTarget target, out _));
        Assert.Equal(new CompileTarget("compute_121", ProducesCubin: false), target);
    }

    [Fact]
    public void An_architecture_NVRTC_skips_gets_PTX_of_the_same_major_version()
    {
        Assert.True(CompileTarget.TrySelect(88, Nvrtc13Architectures, "13.0", out CompileTarget target, out _));
        Assert.Equal(new CompileTarget("compute_87", ProducesCubin: false), target);
    }

    [Fact]
    public void A_device_older_than_NVRTC_supports_is_refused_with_the_oldest_target()
    {
        Assert.False(CompileTarget.TrySelect(61, Nvrtc13Architectures, "13.0", out _, out string whyNot));
        Assert.Equal("NVRTC 13.0 cannot compile for this GPU (sm_61); its oldest target is sm_75", whyNot);
    }

    [Fact]
    public void Options_carry_the_target_and_the_choices()
    {
        var options = new KernelCompileOptions { FastMath = true, Defines = ["BLOCK=256"], ExtraOptions = ["--maxrregcount=64"] };
        List<string> nvrtc = options.ToNvrtcOptions(new CompileTarget("sm_90", true));
        Assert.Equal(["--gpu-architecture=sm_90", "-default-device", "--std=c++17", "-lineinfo", "--use_fast_math", "-DBLOCK=256", "--maxrregcount=64"], nvrtc);
    }
}
