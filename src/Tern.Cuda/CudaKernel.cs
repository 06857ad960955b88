using Tern.Cuda.Interop;

namespace Tern.Cuda;

/// <summary>
/// One <c>__global__</c> function of a <see cref="CudaModule"/>, launched with cuLaunchKernel. The Launch overloads
/// take each argument by value as an unmanaged type (<see cref="DevicePointer"/> for pointers, int, float, …), and
/// pass cuLaunchKernel what it wants, an array of pointers to the values, built on the stack: a launch allocates
/// nothing. Where the driver can say (CUDA 12.4+), the count and byte size of the arguments are checked against the
/// kernel's parameters before launching, so an int where a pointer belongs throws instead of faulting on the device.
/// </summary>
public sealed unsafe partial class CudaKernel
{
    private readonly int[]? _parameterSizes;
    private readonly nint _handle;

    internal CudaKernel(CudaModule module, string name, nint handle)
    {
        Module = module;
        Name = name;
        _handle = handle;
        _parameterSizes = CudaDriver.FuncGetParameterSizes(handle);
        MaxThreadsPerBlock = CudaDriver.FuncGetAttribute(CudaFunctionAttribute.MaxThreadsPerBlock, handle);
        Registers = CudaDriver.FuncGetAttribute(CudaFunctionAttribute.NumRegisters, handle);
        StaticSharedBytes = CudaDriver.FuncGetAttribute(CudaFunctionAttribute.SharedSizeBytes, handle);
        LocalBytesPerThread = CudaDriver.FuncGetAttribute(CudaFunctionAttribute.LocalSizeBytes, handle);
    }

    public CudaModule Module { get; }

    public string Name { get; }

    /// <summary>The CUfunction, for calls Tern.Cuda does not wrap.</summary>
    public nint Handle => _handle;

    /// <summary>The largest block this kernel can be launched with (its register use may make it less than the device's).</summary>
    public int MaxThreadsPerBlock { get; }

    /// <summary>Registers per thread, from the compiler.</summary>
    public int Registers { get; }

    /// <summary>Statically declared shared memory per block.</summary>
    public int StaticSharedBytes { get; }

    /// <summary>Local memory per thread: nonzero means spills or a register array indexed at run time.</summary>
    public int LocalBytesPerThread { get; }

    /// <summary>The byte size of each parameter, or null when the driver is older than CUDA 12.4 and cannot say.</summary>
    public IReadOnlyList<int>? ParameterSizes => _parameterSizes;

    /// <summary>Lets launches ask for up to <paramref name="bytes"/> of dynamic shared memory (needed above 48 KiB).</summary>
    public void SetMaxDynamicSharedMemory(int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        Module.Context.MakeCurrent();
        CudaDriver.FuncSetAttribute(_handle, CudaFunctionAttribute.MaxDynamicSharedSizeBytes, bytes);
    }

    /// <summary>
    /// The share of the SM's L1/shared memory this kernel prefers as shared memory (percent; −1: no preference).
    /// Kernels that may run on one SM at the same time need the same split: an SM changes it only when it is idle.
    /// </summary>
    public void SetPreferredSharedCarveout(int percent)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(percent, -1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percent, 100);
        Module.Context.MakeCurrent();
        CudaDriver.FuncSetAttribute(_handle, CudaFunctionAttribute.PreferredSharedMemoryCarveout, percent);
    }

    /// <summary>Launches with arguments gathered in a <see cref="KernelArguments"/> (any number, up to its capacity).</summary>
    public void Launch(Dim3 grid, Dim3 block, int sharedBytes, CudaStream? stream, scoped ref KernelArguments arguments)
    {
        void** pointers = stackalloc void*[KernelArguments.Capacity];
        int* sizes = stackalloc int[KernelArguments.Capacity];
        int count = arguments.Describe(pointers, sizes);
        LaunchCore(grid, block, sharedBytes, stream, pointers, sizes, count);
    }

    /// <summary>
    /// Launches so that the kernel may start before the previous kernel on <paramref name="stream"/> has finished
    /// (programmatic dependent launch, compute capability 9.0 and CUDA 12.3 or newer, captured into graphs as such):
    /// it must execute <c>griddepcontrol.wait</c> before it reads anything that kernel writes, or writes anything that
    /// kernel reads; before that it may load what does not change (weights). Elsewhere it is an ordinary launch.
    /// </summary>
    public void LaunchOverlapped(Dim3 grid, Dim3 block, int sharedBytes, CudaStream stream, scoped ref KernelArguments arguments)
    {
        void** pointers = stackalloc void*[KernelArguments.Capacity];
        int* sizes = stackalloc int[KernelArguments.Capacity];
        int count = arguments.Describe(pointers, sizes);
        if (Module.Context.ComputeCapabilityMajor < 9)
        {
            LaunchCore(grid, block, sharedBytes, stream, pointers, sizes, count);
            return;
        }
        CheckLaunch(sizes, count, block);
        Module.Context.MakeCurrent();
        CudaDriver.LaunchKernelOverlapped(_handle, grid, block, sharedBytes, stream.Handle, pointers);
    }

    /// <summary>
    /// Launches so that all blocks of the grid are resident together (a cooperative launch: it fails rather than
    /// queueing blocks behind others), as a kernel whose blocks wait for one another needs. Captured into graphs as such.
    /// </summary>
    public void LaunchCooperative(Dim3 grid, Dim3 block, int sharedBytes, CudaStream stream, scoped ref KernelArguments arguments)
    {
        void** pointers = stackalloc void*[KernelArguments.Capacity];
        int* sizes = stackalloc int[KernelArguments.Capacity];
        int count = arguments.Describe(pointers, sizes);
        CheckLaunch(sizes, count, block);
        Module.Context.MakeCurrent();
        CudaDriver.LaunchKernelCooperative(_handle, grid, block, sharedBytes, stream.Handle, pointers);
    }

    private void LaunchCore(Dim3 grid, Dim3 block, int sharedBytes, CudaStream? stream, void** arguments, int* sizes, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sharedBytes);
        CheckLaunch(sizes, count, block);
        Module.Context.MakeCurrent();
        CudaDriver.LaunchKernel(_handle, grid, block, sharedBytes, stream?.Handle ?? 0, arguments);
    }

    private void CheckLaunch(int* sizes, int count, Dim3 block)
    {
        if (_parameterSizes is not null && !Matches(sizes, count))
            throw new ArgumentException(DescribeMismatch(sizes, count));
        if (block.Count > MaxThreadsPerBlock)
            throw new ArgumentOutOfRangeException(nameof(block), $"kernel {Name} takes at most {MaxThreadsPerBlock} threads per block; {block} is {block.Count}");
    }

    private bool Matches(int* sizes, int count)
    {
        if (count != _parameterSizes!.Length)
            return false;
        for (int i = 0; i < count; i++)
        {
            if (sizes[i] != _parameterSizes[i])
                return false;
        }
        return true;
    }

    private string DescribeMismatch(int* sizes, int count)
    {
        var given = new int[count];
        for (int i = 0; i < count; i++)
            given[i] = sizes[i];
        return $"kernel {Name} (from '{Module.SourceName}') takes {_parameterSizes!.Length} argument(s) of " +
            $"[{string.Join(", ", _parameterSizes)}] bytes; the launch gave {count} of [{string.Join(", ", given)}] bytes";
    }

    public override string ToString() => $"{Name} ({Registers} registers, {StaticSharedBytes} B shared, {LocalBytesPerThread} B local)";
}
