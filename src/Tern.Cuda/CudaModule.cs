using Tern.Cuda.Interop;

namespace Tern.Cuda;

/// <summary>
/// Compiled kernels loaded into a context (CUmodule), from <see cref="KernelCompiler.Compile(KernelSource, KernelCompileOptions?)"/>.
/// Its kernels live as long as the module: dispose it only when none of them will be launched again.
/// </summary>
public sealed class CudaModule : IDisposable
{
    private readonly Dictionary<string, CudaKernel> _kernels = new(StringComparer.Ordinal);
    private nint _handle;

    internal CudaModule(CudaContext context, string sourceName, nint handle, string? cachePath, bool loadedFromCache, string compileLog)
    {
        Context = context;
        SourceName = sourceName;
        _handle = handle;
        CachePath = cachePath;
        LoadedFromCache = loadedFromCache;
        CompileLog = compileLog;
    }

    public CudaContext Context { get; }

    /// <summary>The <see cref="KernelSource.Name"/> it was compiled from.</summary>
    public string SourceName { get; }

    /// <summary>The cache file that holds the binary, or null when the compiler keeps no cache.</summary>
    public string? CachePath { get; }

    /// <summary>True when the binary came from the disk cache and NVRTC did not run.</summary>
    public bool LoadedFromCache { get; }

    /// <summary>NVRTC's log of a successful compile (warnings), empty when loaded from the cache.</summary>
    public string CompileLog { get; }

    /// <summary>
    /// The <c>extern "C" __global__</c> function <paramref name="name"/>; the same object on every call. Throws
    /// <see cref="KeyNotFoundException"/> naming the source when the module has no such kernel.
    /// </summary>
    public CudaKernel GetKernel(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        lock (_kernels)
        {
            if (_kernels.TryGetValue(name, out CudaKernel? kernel))
                return kernel;
            ObjectDisposedException.ThrowIf(_handle == 0, this);
            Context.MakeCurrent();
            nint function = CudaDriver.ModuleGetFunction(_handle, name);
            if (function == 0)
                throw new KeyNotFoundException($"kernel source '{SourceName}' has no kernel named '{name}' (is it extern \"C\" __global__?)");
            kernel = new CudaKernel(this, name, function);
            _kernels.Add(name, kernel);
            return kernel;
        }
    }

    public void Dispose()
    {
        nint handle = Interlocked.Exchange(ref _handle, 0);
        if (handle == 0)
            return;
        Context.MakeCurrent();
        CudaDriver.ModuleUnload(handle);
    }
}
