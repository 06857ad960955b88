namespace Tern.Cuda;

/// <summary>
/// How <see cref="KernelCompiler"/> asks NVRTC to compile. The architecture comes from the device; these are the
/// rest. Every option takes part in the cache key, so changing one compiles afresh.
/// </summary>
public sealed record KernelCompileOptions
{
    public static readonly KernelCompileOptions Default = new();

    /// <summary>The C++ dialect (--std).</summary>
    public string LanguageStandard { get; init; } = "c++17";

    /// <summary>Source line information in the binary (-lineinfo), for profilers and compute-sanitizer; no cost at run time.</summary>
    public bool LineInfo { get; init; } = true;

    /// <summary>Fast, less exact float intrinsics (--use_fast_math): off, since results are compared with CPU references.</summary>
    public bool FastMath { get; init; }

    /// <summary>Preprocessor definitions, each "NAME" or "NAME=VALUE" (-D).</summary>
    public IReadOnlyList<string> Defines { get; init; } = [];

    /// <summary>Any further NVRTC options, passed as they are (e.g. "--maxrregcount=128").</summary>
    public IReadOnlyList<string> ExtraOptions { get; init; } = [];

    /// <summary>The full NVRTC option list for <paramref name="target"/>.</summary>
    internal List<string> ToNvrtcOptions(CompileTarget target)
    {
        // -default-device: functions without __host__/__device__ are device code, as every function here is.
        var options = new List<string> { target.Option, "-default-device", $"--std={LanguageStandard}" };
        if (LineInfo)
            options.Add("-lineinfo");
        if (FastMath)
            options.Add("--use_fast_math");
        options.AddRange(Defines.Select(define => "-D" + define));
        options.AddRange(ExtraOptions);
        return options;
    }
}
