using System.Reflection;
using System.Runtime.InteropServices;

namespace Tern.Cuda.Interop;

/// <summary>
/// The NVIDIA libraries behind <see cref="CudaDriver"/>, <see cref="Nvrtc"/> and <see cref="CublasLt"/>. Their
/// P/Invoke declarations name a logical library (<see cref="Driver"/>, …); the resolver registered here maps each to
/// the file its <see cref="NativeLibraryProbe"/> found, so nothing is loaded until it is first needed and a machine
/// without CUDA only learns so when it asks.
/// </summary>
internal static class CudaLibraries
{
    public const string Driver = "tern-cuda-driver";
    public const string Nvrtc = "tern-cuda-nvrtc";
    public const string CublasLt = "tern-cuda-cublaslt";

    public static readonly NativeLibraryProbe DriverLibrary = new(
        "The NVIDIA CUDA driver",
        OperatingSystem.IsWindows() ? ["nvcuda.dll"] : ["libcuda.so.1", "libcuda.so"],
        DriverDirectories);

    public static readonly NativeLibraryProbe NvrtcLibrary = new(
        "CUDA's run-time compiler NVRTC",
        OperatingSystem.IsWindows() ? ["nvrtc64_130_0.dll", "nvrtc64_120_0.dll"] : ["libnvrtc.so.13", "libnvrtc.so.12"],
        ToolkitDirectories);

    public static readonly NativeLibraryProbe CublasLtLibrary = new(
        "CUDA's matrix library cuBLASLt",
        OperatingSystem.IsWindows() ? ["cublasLt64_13.dll", "cublasLt64_12.dll"] : ["libcublasLt.so.13", "libcublasLt.so.12"],
        ToolkitDirectories);

    private static int s_resolverRegistered;

    /// <summary>Registers the resolver once; every P/Invoke class calls this from its static constructor.</summary>
    public static void EnsureResolver()
    {
        if (Interlocked.Exchange(ref s_resolverRegistered, 1) == 0)
            NativeLibrary.SetDllImportResolver(typeof(CudaLibraries).Assembly, Resolve);
    }

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        libraryName switch
        {
            Driver => DriverLibrary.Handle,
            Nvrtc => LoadNvrtc(),
            CublasLt => CublasLtLibrary.Handle,
            _ => 0,
        };

    /// <summary>
    /// NVRTC opens its built-in headers library (libnvrtc-builtins.so.MAJOR.MINOR) by name when it compiles; when
    /// NVRTC itself came from a toolkit folder outside the loader's search, that name would not be found, so the file
    /// beside it is loaded first and the later lookup by name finds it already in the process.
    /// </summary>
    public static nint LoadNvrtc()
    {
        nint handle = NvrtcLibrary.Handle;
        if (handle != 0 && !OperatingSystem.IsWindows() && Path.IsPathRooted(NvrtcLibrary.LoadedFrom))
            PreloadBuiltins(Path.GetDirectoryName(NvrtcLibrary.LoadedFrom)!);
        return handle;
    }

    private static int s_builtinsPreloaded;

    private static void PreloadBuiltins(string directory)
    {
        if (Interlocked.Exchange(ref s_builtinsPreloaded, 1) != 0)
            return;
        string major = Path.GetFileName(NvrtcLibrary.LoadedFrom!).Split(".so.")[1];
        foreach (string builtins in Directory.EnumerateFiles(directory, $"libnvrtc-builtins.so.{major}.*"))
        {
            if (NativeLibrary.TryLoad(builtins, out _))
                return;
        }
    }

    private static IEnumerable<string> DriverDirectories()
    {
        if (OperatingSystem.IsWindows())
            return [Environment.SystemDirectory];
        return ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/local/nvidia/lib64", "/usr/lib/wsl/lib"];
    }

    private static IEnumerable<string> ToolkitDirectories()
    {
        var roots = new List<string>();
        foreach (string variable in new[] { "CUDA_HOME", "CUDA_PATH", "CUDA_ROOT" })
        {
            string? root = Environment.GetEnvironmentVariable(variable);
            if (!string.IsNullOrWhiteSpace(root))
                roots.Add(root);
        }
        if (OperatingSystem.IsWindows())
            return roots.SelectMany(root => new[] { Path.Combine(root, "bin", "x64"), Path.Combine(root, "bin") });
        roots.Add("/usr/local/cuda");
        return roots
            .SelectMany(root => new[] { Path.Combine(root, "lib64"), Path.Combine(root, "lib"), Path.Combine(root, "targets", "x86_64-linux", "lib"), Path.Combine(root, "targets", "sbsa-linux", "lib") })
            .Append("/usr/lib/x86_64-linux-gnu")
            .Append("/usr/lib/aarch64-linux-gnu");
    }
}
