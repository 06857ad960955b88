namespace Tern.Cuda;

/// <summary>
/// What NVRTC compiles for on a given device: the device's own architecture as machine code (sm_90 → a CUBIN the
/// driver loads as is) when NVRTC knows it; for a device newer than NVRTC, PTX for NVRTC's newest architecture,
/// which the driver compiles for the device when the module loads. A device older than NVRTC's oldest target cannot
/// be served at all (CUDA 13 dropped everything before Turing, sm_75).
/// </summary>
internal readonly record struct CompileTarget(string Architecture, bool ProducesCubin)
{
    /// <summary>The value of NVRTC's --gpu-architecture option.</summary>
    public string Option => $"--gpu-architecture={Architecture}";

    /// <param name="deviceArchitecture">The compute capability as 10·major + minor (90 for 9.0).</param>
    /// <param name="supported">NVRTC's real architectures in the same form (nvrtcGetSupportedArchs).</param>
    /// <param name="nvrtcVersion">For the message, e.g. "13.0".</param>
    public static bool TrySelect(
        int deviceArchitecture, IReadOnlyList<int> supported, string nvrtcVersion, out CompileTarget target, out string whyNot)
    {
        target = default;
        whyNot = "";
        if (supported.Count == 0)
        {
            whyNot = $"NVRTC {nvrtcVersion} reports no GPU architecture it can compile for";
            return false;
        }
        if (supported.Contains(deviceArchitecture))
        {
            target = new CompileTarget($"sm_{deviceArchitecture}", ProducesCubin: true);
            return true;
        }
        int newest = supported.Max();
        if (deviceArchitecture > newest)
        {
            target = new CompileTarget($"compute_{newest}", ProducesCubin: false);
            return true;
        }
        // An architecture NVRTC skips (none today): the newest it has of the same major version runs there as PTX.
        int sameMajor = supported.Where(a => a / 10 == deviceArchitecture / 10 && a < deviceArchitecture).DefaultIfEmpty(0).Max();
        if (sameMajor != 0)
        {
            target = new CompileTarget($"compute_{sameMajor}", ProducesCubin: false);
            return true;
        }
        whyNot = $"NVRTC {nvrtcVersion} cannot compile for this GPU (sm_{deviceArchitecture}); its oldest target is sm_{supported.Min()}";
        return false;
    }
}
