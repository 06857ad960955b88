using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Tern.Cuda.Interop;

namespace Tern.Cuda;

/// <summary>
/// Compiles CUDA C++ with NVRTC for the context's GPU and loads it as a <see cref="CudaModule"/>. The binary is kept
/// in a disk cache under a hash of everything that decides it (source name and text, options, target architecture,
/// NVRTC version), so a later run loads it without compiling; a cache that cannot be read or written only costs the
/// compile. Thread-safe: NVRTC programs are independent and the cache is written by rename.
/// </summary>
public sealed class KernelCompiler
{
    private readonly CompileTarget _target;

    /// <summary>A compiler that caches in <see cref="DefaultCacheDirectory"/>.</summary>
    public KernelCompiler(CudaContext context)
        : this(context, DefaultCacheDirectory)
    {
    }

    /// <summary>A compiler that caches in <paramref name="cacheDirectory"/>, or keeps nothing on disk when it is null.</summary>
    public KernelCompiler(CudaContext context, string? cacheDirectory)
    {
        ArgumentNullException.ThrowIfNull(context);
        Context = context;
        CacheDirectory = cacheDirectory;
        if (CudaLibraries.LoadNvrtc() == 0)
            throw new DllNotFoundException(CudaLibraries.NvrtcLibrary.NotFoundMessage + ".");
        (int major, int minor) = Nvrtc.Version();
        NvrtcVersion = $"{major}.{minor}";
        int architecture = context.ComputeCapabilityMajor * 10 + context.ComputeCapabilityMinor;
        if (!CompileTarget.TrySelect(architecture, Nvrtc.SupportedArchitectures(), NvrtcVersion, out _target, out string whyNot))
            throw new NotSupportedException($"{whyNot} ({context.Name}).");
    }

    /// <summary>
    /// $TERN_CUDA_CACHE if set, else $XDG_CACHE_HOME/tern/cuda, else ~/.cache/tern/cuda (on Windows, the local
    /// application data folder's tern/cuda).
    /// </summary>
    public static string DefaultCacheDirectory
    {
        get
        {
            string? explicitDirectory = Environment.GetEnvironmentVariable("TERN_CUDA_CACHE");
            if (!string.IsNullOrWhiteSpace(explicitDirectory))
                return explicitDirectory;
            if (OperatingSystem.IsWindows())
                return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "tern", "cuda");
            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            string root = !string.IsNullOrWhiteSpace(xdg) && Path.IsPathRooted(xdg)
                ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return Path.Combine(root, "tern", "cuda");
        }
    }

    public CudaContext Context { get; }

    /// <summary>Where compiled binaries are kept, or null for no disk cache.</summary>
    public string? CacheDirectory { get; }

    /// <summary>NVRTC's version, e.g. "13.0".</summary>
    public string NvrtcVersion { get; }

    /// <summary>What NVRTC compiles for: the device's real architecture (sm_90, a CUBIN) or, for a GPU newer than NVRTC, compute_XX PTX.</summary>
    public string TargetArchitecture => _target.Architecture;

    /// <summary>Compiles an embedded .cu resource of <paramref name="assembly"/> (see <see cref="KernelSource.FromResource"/>).</summary>
    public CudaModule Compile(Assembly assembly, string resourceName, KernelCompileOptions? options = null) =>
        Compile(KernelSource.FromResource(assembly, resourceName), options);

    /// <summary>
    /// The module for <paramref name="source"/>: loaded from the cache when an identical compile is there, else
    /// compiled (and cached). Throws <see cref="KernelCompilationException"/> with NVRTC's log when the source does not compile.
    /// </summary>
    public CudaModule Compile(KernelSource source, KernelCompileOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        List<string> nvrtcOptions = (options ?? KernelCompileOptions.Default).ToNvrtcOptions(_target);
        string? cachePath = CacheDirectory is null ? null : Path.Combine(CacheDirectory, CacheFileName(source, nvrtcOptions));

        Context.MakeCurrent();
        if (cachePath is not null && TryReadCache(cachePath) is { } cached)
        {
            try
            {
                return new CudaModule(Context, source.Name, CudaDriver.ModuleLoadData(cached), cachePath, loadedFromCache: true, compileLog: "");
            }
            catch (CudaException)
            {
                // A damaged or foreign file: compile again and replace it.
                TryDelete(cachePath);
            }
        }

        (byte[] image, string log) = CompileWithNvrtc(source, nvrtcOptions);
        if (cachePath is not null)
            TryWriteCache(cachePath, image);
        return new CudaModule(Context, source.Name, CudaDriver.ModuleLoadData(image), cachePath, loadedFromCache: false, log);
    }

    private (byte[] Image, string Log) CompileWithNvrtc(KernelSource source, List<string> options)
    {
        nint program = Nvrtc.CreateProgram(source.Text, source.Name);
        try
        {
            bool compiled = Nvrtc.CompileProgram(program, options);
            string log = Nvrtc.GetProgramLog(program);
            if (!compiled)
                throw new KernelCompilationException(source.Name, log, options);
            return (_target.ProducesCubin ? Nvrtc.GetCubin(program) : Nvrtc.GetPtx(program), log);
        }
        finally
        {
            Nvrtc.DestroyProgram(program);
        }
    }

    /// <summary>name.hash.arch.cubin (or .ptx): readable in a listing, unique by content.</summary>
    private string CacheFileName(KernelSource source, List<string> options)
    {
        var key = new StringBuilder();
        key.Append("tern-cuda-kernel-cache 1\n");
        key.Append("nvrtc ").Append(NvrtcVersion).Append('\n');
        key.Append("target ").Append(_target.Architecture).Append('\n');
        foreach (string option in options)
            key.Append("option ").Append(option).Append('\n');
        key.Append("name ").Append(source.Name).Append('\n');
        key.Append(source.Text);
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key.ToString())))[..32];
        string readableName = new(source.Name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());
        return $"{readableName}.{hash}.{_target.Architecture}.{(_target.ProducesCubin ? "cubin" : "ptx")}";
    }

    private static byte[]? TryReadCache(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllBytes(path) : null;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void TryWriteCache(string path, byte[] image)
    {
        // Written under a temporary name and renamed, so a reader never sees half a file and two writers of the
        // same key simply leave one identical copy.
        string temporary = $"{path}.{Environment.ProcessId}.{Environment.CurrentManagedThreadId}.tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(temporary, image);
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // Nothing more to do: the next compile overwrites it.
        }
    }
}
