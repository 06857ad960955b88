using System.Diagnostics.CodeAnalysis;
using Tern.Cuda.Interop;

namespace Tern.Cuda;

/// <summary>
/// Whether Tern can compute on a GPU here, asked without throwing: the CLI calls <see cref="TryCreate(out CudaContext?, out string)"/>,
/// prints the reason when the answer is no, and runs on the CPU.
/// </summary>
public static class CudaAvailability
{
    /// <summary>Opens the first GPU; see <see cref="TryCreate(int, out CudaContext?, out string)"/>.</summary>
    public static bool TryCreate([NotNullWhen(true)] out CudaContext? context, out string whyNot) =>
        TryCreate(0, out context, out whyNot);

    /// <summary>
    /// Opens GPU <paramref name="deviceOrdinal"/> when everything Tern's GPU code needs is there: the driver library,
    /// a device, a driver for CUDA 12.0 or newer, NVRTC no newer than the driver and able to compile for the device,
    /// and cuBLASLt. Otherwise returns false with one sentence that says what is missing, and throws nothing.
    /// </summary>
    public static bool TryCreate(int deviceOrdinal, [NotNullWhen(true)] out CudaContext? context, out string whyNot)
    {
        context = null;
        try
        {
            whyNot = Check(deviceOrdinal, out context);
        }
        catch (Exception exception) when (exception is CudaException or DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            whyNot = "CUDA could not be used: " + exception.Message.TrimEnd('.') + ".";
        }
        if (whyNot.Length == 0 && context is not null)
            return true;
        context?.Dispose();
        context = null;
        return false;
    }

    private static string Check(int deviceOrdinal, out CudaContext? context)
    {
        context = null;
        if (deviceOrdinal < 0)
            return $"CUDA device {deviceOrdinal} does not exist: device numbers start at 0.";
        if (!CudaLibraries.DriverLibrary.IsLoaded)
            return CudaLibraries.DriverLibrary.NotFoundMessage + ".";

        CudaLibraries.EnsureResolver();
        try
        {
            CudaDriver.Init();
        }
        catch (CudaException exception) when (exception.ErrorCode == (int)CudaResult.NoDevice)
        {
            return "The NVIDIA driver is installed but found no CUDA device.";
        }
        catch (CudaException exception) when (exception.ErrorCode is (int)CudaResult.InsufficientDriver
            or (int)CudaResult.SystemDriverMismatch or (int)CudaResult.CompatNotSupportedOnDevice)
        {
            return $"The NVIDIA driver cannot start CUDA: {exception.ErrorName} ({exception.ErrorText}); update or reinstall the driver.";
        }

        int driverVersion = CudaDriver.DriverGetVersion();
        if (driverVersion < CudaContext.MinimumDriverVersion)
        {
            return $"The NVIDIA driver supports CUDA {CudaContext.FormatVersion(driverVersion)}, and Tern needs CUDA " +
                $"{CudaContext.FormatVersion(CudaContext.MinimumDriverVersion)} or newer; update the driver.";
        }
        int devices = CudaDriver.DeviceGetCount();
        if (devices == 0)
            return "The NVIDIA driver is installed but found no CUDA device.";
        if (deviceOrdinal >= devices)
            return $"CUDA device {deviceOrdinal} was asked for, but the driver sees only {devices} device(s) (numbered from 0).";

        if (!CudaLibraries.NvrtcLibrary.IsLoaded || CudaLibraries.LoadNvrtc() == 0)
            return CudaLibraries.NvrtcLibrary.NotFoundMessage + ".";
        (int nvrtcMajor, int nvrtcMinor) = Nvrtc.Version();
        if (nvrtcMajor > driverVersion / 1000)
        {
            return $"NVRTC {nvrtcMajor}.{nvrtcMinor} is newer than the NVIDIA driver (CUDA {CudaContext.FormatVersion(driverVersion)}), " +
                $"which cannot load what it compiles; update the driver or put NVRTC {driverVersion / 1000} first on the library path.";
        }
        if (!CudaLibraries.CublasLtLibrary.IsLoaded)
            return CudaLibraries.CublasLtLibrary.NotFoundMessage + ".";
        long cublasVersion = CublasLt.Version();
        if (cublasVersion / 10000 > driverVersion / 1000)
        {
            return $"cuBLASLt {cublasVersion / 10000}.{cublasVersion / 100 % 100} is newer than the NVIDIA driver (CUDA " +
                $"{CudaContext.FormatVersion(driverVersion)}); update the driver or put cuBLASLt {driverVersion / 1000} first on the library path.";
        }

        context = CudaContext.Create(deviceOrdinal);
        int architecture = context.ComputeCapabilityMajor * 10 + context.ComputeCapabilityMinor;
        if (!CompileTarget.TrySelect(architecture, Nvrtc.SupportedArchitectures(), $"{nvrtcMajor}.{nvrtcMinor}", out _, out string whyNot))
            return $"{whyNot} ({context.Name}).";
        return "";
    }
}
