using Tern.Cuda.Interop;

namespace Tern.Cuda;

/// <summary>
/// One GPU and its primary context (the context the CUDA runtime, cuBLAS and PyTorch share for a device): what the
/// device is, and the handle every other Tern.Cuda object works under. Driver calls need the context current on the
/// calling thread; each object makes it so before its calls (<see cref="MakeCurrent"/>, cheap when it already is),
/// so objects may be used from any thread, one thread at a time. <see cref="CudaAvailability.TryCreate"/> is the
/// way in that never throws.
/// </summary>
public sealed class CudaContext : IDisposable
{
    /// <summary>CUDA 12.0: the oldest driver API this library's calls and NVRTC's output are checked against.</summary>
    public const int MinimumDriverVersion = 12000;

    [ThreadStatic]
    private static nint t_currentContext;

    private nint _handle;

    private CudaContext(int ordinal, int device, nint handle)
    {
        DeviceOrdinal = ordinal;
        Device = device;
        _handle = handle;
        Name = CudaDriver.DeviceGetName(device);
        ComputeCapabilityMajor = CudaDriver.DeviceGetAttribute(CudaDeviceAttribute.ComputeCapabilityMajor, device);
        ComputeCapabilityMinor = CudaDriver.DeviceGetAttribute(CudaDeviceAttribute.ComputeCapabilityMinor, device);
        MultiprocessorCount = CudaDriver.DeviceGetAttribute(CudaDeviceAttribute.MultiprocessorCount, device);
        TotalMemoryBytes = CudaDriver.DeviceTotalMem(device);
        L2CacheBytes = CudaDriver.DeviceGetAttribute(CudaDeviceAttribute.L2CacheSize, device);
        MaxThreadsPerBlock = CudaDriver.DeviceGetAttribute(CudaDeviceAttribute.MaxThreadsPerBlock, device);
        MaxSharedMemoryPerBlock = CudaDriver.DeviceGetAttribute(CudaDeviceAttribute.MaxSharedMemoryPerBlock, device);
        MaxSharedMemoryPerBlockOptIn = CudaDriver.DeviceGetAttribute(CudaDeviceAttribute.MaxSharedMemoryPerBlockOptin, device);
        WarpSize = CudaDriver.DeviceGetAttribute(CudaDeviceAttribute.WarpSize, device);
        DriverVersion = CudaDriver.DriverGetVersion();
    }

    /// <summary>
    /// Opens device <paramref name="deviceOrdinal"/>: loads the driver, initializes it and retains the device's primary
    /// context. Throws <see cref="DllNotFoundException"/> without a driver and <see cref="CudaException"/> when a call
    /// fails; <see cref="CudaAvailability.TryCreate(out CudaContext?, out string)"/> turns both into a sentence.
    /// </summary>
    public static CudaContext Create(int deviceOrdinal = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(deviceOrdinal);
        CudaLibraries.DriverLibrary.RequireHandle();
        CudaDriver.Init();
        int count = CudaDriver.DeviceGetCount();
        if (deviceOrdinal >= count)
            throw new ArgumentOutOfRangeException(nameof(deviceOrdinal), deviceOrdinal, $"the driver sees {count} CUDA device(s)");
        int device = CudaDriver.DeviceGet(deviceOrdinal);
        nint handle = CudaDriver.DevicePrimaryCtxRetain(device);
        try
        {
            CudaDriver.CtxSetCurrent(handle);
            t_currentContext = handle;
            return new CudaContext(deviceOrdinal, device, handle);
        }
        catch
        {
            CudaDriver.DevicePrimaryCtxRelease(device);
            throw;
        }
    }

    /// <summary>The ordinal the context was created with (0 for the first GPU).</summary>
    public int DeviceOrdinal { get; }

    /// <summary>The device's name, e.g. "NVIDIA H100 80GB HBM3".</summary>
    public string Name { get; }

    public int ComputeCapabilityMajor { get; }

    public int ComputeCapabilityMinor { get; }

    /// <summary>The compute capability as NVRTC's real architectures name it: sm_90 for 9.0.</summary>
    public string Architecture => $"sm_{ComputeCapabilityMajor}{ComputeCapabilityMinor}";

    /// <summary>Streaming multiprocessors: the number of blocks a persistent grid should have, times blocks per SM.</summary>
    public int MultiprocessorCount { get; }

    public long TotalMemoryBytes { get; }

    public int L2CacheBytes { get; }

    public int MaxThreadsPerBlock { get; }

    /// <summary>Shared memory a block gets without asking (48 KiB).</summary>
    public int MaxSharedMemoryPerBlock { get; }

    /// <summary>Shared memory a block may get after <see cref="CudaKernel.SetMaxDynamicSharedMemory"/> raises its limit.</summary>
    public int MaxSharedMemoryPerBlockOptIn { get; }

    public int WarpSize { get; }

    /// <summary>The CUDA version the driver supports, as 1000·major + 10·minor (13000 for 13.0).</summary>
    public int DriverVersion { get; }

    /// <summary><see cref="DriverVersion"/> as "13.0".</summary>
    public string DriverVersionText => FormatVersion(DriverVersion);

    internal int Device { get; }

    internal nint Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(_handle == 0, this);
            return _handle;
        }
    }

    /// <summary>Free and total device memory now, in bytes.</summary>
    public (long FreeBytes, long TotalBytes) GetMemoryInfo()
    {
        MakeCurrent();
        return CudaDriver.MemGetInfo();
    }

    /// <summary>Makes this context current on the calling thread; one comparison when it already is.</summary>
    public void MakeCurrent()
    {
        nint handle = Handle;
        if (t_currentContext != handle)
        {
            CudaDriver.CtxSetCurrent(handle);
            t_currentContext = handle;
        }
    }

    /// <summary>Waits for all work on the device; a kernel's asynchronous fault surfaces here as a <see cref="CudaException"/>.</summary>
    public void Synchronize()
    {
        MakeCurrent();
        CudaDriver.CtxSynchronize();
    }

    /// <summary>Releases the primary context; device memory still allocated in it is freed with it once no one else holds it.</summary>
    public void Dispose()
    {
        if (_handle == 0)
            return;
        _handle = 0;
        if (t_currentContext != 0)
            t_currentContext = 0;
        CudaDriver.DevicePrimaryCtxRelease(Device);
    }

    public override string ToString() =>
        $"{Name} ({Architecture}, {MultiprocessorCount} SMs, {TotalMemoryBytes / (1024.0 * 1024 * 1024):F1} GiB, driver CUDA {DriverVersionText})";

    internal static string FormatVersion(int version) => $"{version / 1000}.{version % 1000 / 10}";
}
