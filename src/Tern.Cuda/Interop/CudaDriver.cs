using System.Runtime.InteropServices;

namespace Tern.Cuda.Interop;

/// <summary>
/// The CUDA driver API calls Tern.Cuda makes, each behind a wrapper that checks its result: a failure throws
/// <see cref="CudaException"/> naming the call, the error's name and the driver's description of it. Entry points are
/// the versioned symbols that cuda.h maps the plain names to (cuMemAlloc → cuMemAlloc_v2), so they bind to the same
/// functions a C program built against the headers would. Handles are opaque pointers (nint); device addresses are
/// 64-bit integers (CUdeviceptr). Calls need the context current on the calling thread (<see cref="CudaContext"/>).
/// </summary>
internal static unsafe partial class CudaDriver
{
    static CudaDriver() => CudaLibraries.EnsureResolver();

    // cuEventElapsedTime_v2 (CUDA 12.8+) is what CUDA 13's headers call; older drivers have only the first version.
    private static int s_elapsedTimeVersion = 2;

    public static void Init() => Check(cuInit(0), "cuInit");

    /// <summary>The CUDA version the driver supports, as 1000·major + 10·minor (12040 for 12.4).</summary>
    public static int DriverGetVersion()
    {
        int version;
        Check(cuDriverGetVersion(&version), "cuDriverGetVersion");
        return version;
    }

    public static int DeviceGetCount()
    {
        int count;
        Check(cuDeviceGetCount(&count), "cuDeviceGetCount");
        return count;
    }

    public static int DeviceGet(int ordinal)
    {
        int device;
        Check(cuDeviceGet(&device, ordinal), "cuDeviceGet");
        return device;
    }

    public static string DeviceGetName(int device)
    {
        const int Capacity = 256;
        byte* name = stackalloc byte[Capacity];
        Check(cuDeviceGetName(name, Capacity, device), "cuDeviceGetName");
        return Marshal.PtrToStringUTF8((nint)name) ?? "";
    }

    public static int DeviceGetAttribute(CudaDeviceAttribute attribute, int device)
    {
        int value;
        Check(cuDeviceGetAttribute(&value, attribute, device), "cuDeviceGetAttribute");
        return value;
    }

    public static long DeviceTotalMem(int device)
    {
        nuint bytes;
        Check(cuDeviceTotalMem_v2(&bytes, device), "cuDeviceTotalMem");
        return (long)bytes;
    }

    public static nint DevicePrimaryCtxRetain(int device)
    {
        nint context;
        Check(cuDevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain");
        return context;
    }

    public static void DevicePrimaryCtxRelease(int device) =>
        Check(cuDevicePrimaryCtxRelease_v2(device), "cuDevicePrimaryCtxRelease");

    public static void CtxSetCurrent(nint context) => Check(cuCtxSetCurrent(context), "cuCtxSetCurrent");

    public static void CtxSynchronize() => Check(cuCtxSynchronize(), "cuCtxSynchronize");

    public static (long Free, long Total) MemGetInfo()
    {
        nuint free, total;
        Check(cuMemGetInfo_v2(&free, &total), "cuMemGetInfo");
        return ((long)free, (long)total);
    }

    public static ulong MemAlloc(long bytes)
    {
        ulong pointer;
        Check(cuMemAlloc_v2(&pointer, (nuint)bytes), "cuMemAlloc");
        return pointer;
    }

    public static void MemFree(ulong pointer) => Check(cuMemFree_v2(pointer), "cuMemFree");

    /// <summary>Page-locked host memory, which copies to and from the device can use asynchronously (and inside graphs).</summary>
    public static void* MemAllocHost(long bytes)
    {
        void* pointer;
        Check(cuMemAllocHost_v2(&pointer, (nuint)bytes), "cuMemAllocHost");
        return pointer;
    }

    public static void MemFreeHost(void* pointer) => Check(cuMemFreeHost(pointer), "cuMemFreeHost");

    public static void MemcpyHtoD(ulong destination, void* source, long bytes) =>
        Check(cuMemcpyHtoD_v2(destination, source, (nuint)bytes), "cuMemcpyHtoD");

    public static void MemcpyDtoH(void* destination, ulong source, long bytes) =>
        Check(cuMemcpyDtoH_v2(destination, source, (nuint)bytes), "cuMemcpyDtoH");

    public static void MemcpyDtoD(ulong destination, ulong source, long bytes) =>
        Check(cuMemcpyDtoD_v2(destination, source, (nuint)bytes), "cuMemcpyDtoD");

    public static void MemcpyHtoDAsync(ulong destination, void* source, long bytes, nint stream) =>
        Check(cuMemcpyHtoDAsync_v2(destination, source, (nuint)bytes, stream), "cuMemcpyHtoDAsync");

    public static void MemcpyDtoHAsync(void* destination, ulong source, long bytes, nint stream) =>
        Check(cuMemcpyDtoHAsync_v2(destination, source, (nuint)bytes, stream), "cuMemcpyDtoHAsync");

    public static void MemcpyDtoDAsync(ulong destination, ulong source, long bytes, nint stream) =>
        Check(cuMemcpyDtoDAsync_v2(destination, source, (nuint)bytes, stream), "cuMemcpyDtoDAsync");

    public static void MemsetD8(ulong destination, byte value, long count) =>
        Check(cuMemsetD8_v2(destination, value, (nuint)count), "cuMemsetD8");

    public static void MemsetD32(ulong destination, uint value, long count) =>
        Check(cuMemsetD32_v2(destination, value, (nuint)count), "cuMemsetD32");

    public static void MemsetD8Async(ulong destination, byte value, long count, nint stream) =>
        Check(cuMemsetD8Async(destination, value, (nuint)count, stream), "cuMemsetD8Async");

    public static void MemsetD32Async(ulong destination, uint value, long count, nint stream) =>
        Check(cuMemsetD32Async(destination, value, (nuint)count, stream), "cuMemsetD32Async");

    public static nint ModuleLoadData(ReadOnlySpan<byte> image)
    {
        nint module;
        fixed (byte* data = image)
            Check(cuModuleLoadData(&module, data), "cuModuleLoadData");
        return module;
    }

    public static void ModuleUnload(nint module) => Check(cuModuleUnload(module), "cuModuleUnload");

    /// <summary>The function, or 0 when the module has none of that name (CUDA_ERROR_NOT_FOUND).</summary>
    public static nint ModuleGetFunction(nint module, string name)
    {
        nint function;
        CudaResult result = cuModuleGetFunction(&function, module, name);
        if (result == CudaResult.NotFound)
            return 0;
        Check(result, "cuModuleGetFunction");
        return function;
    }

    public static int FuncGetAttribute(CudaFunctionAttribute attribute, nint function)
    {
        int value;
        Check(cuFuncGetAttribute(&value, attribute, function), "cuFuncGetAttribute");
        return value;
    }

    public static void FuncSetAttribute(nint function, CudaFunctionAttribute attribute, int value) =>
        Check(cuFuncSetAttribute(function, attribute, value), "cuFuncSetAttribute");

    /// <summary>
    /// The byte size of each of a kernel's parameters (cuFuncGetParamInfo, CUDA 12.4+, which answers
    /// CUDA_ERROR_INVALID_VALUE past the last one), or null when the driver is older and cannot say.
    /// </summary>
    public static int[]? FuncGetParameterSizes(nint function)
    {
        var sizes = new List<int>();
        try
        {
            for (nuint index = 0; ; index++)
            {
                nuint offset, size;
                CudaResult result = cuFuncGetParamInfo(function, index, &offset, &size);
                if (result == CudaResult.InvalidValue)
                    return [.. sizes];
                // Any other failure means the driver cannot describe this kernel; launches then go unchecked.
                if (result != CudaResult.Success)
                    return null;
                sizes.Add((int)size);
            }
        }
        catch (EntryPointNotFoundException)
        {
            return null;
        }
    }

    public static void LaunchKernel(
        nint function, Dim3 grid, Dim3 block, int sharedBytes, nint stream, void** arguments) =>
        Check(
            cuLaunchKernel(function, grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z, (uint)sharedBytes, stream, arguments, null),
            "cuLaunchKernel");

    /// <summary>
    /// cuLaunchKernelEx with programmatic stream serialization: the kernel may start while the previous kernel on the
    /// stream still runs, and waits for it where it executes griddepcontrol.wait (programmatic dependent launch).
    /// </summary>
    public static void LaunchKernelOverlapped(
        nint function, Dim3 grid, Dim3 block, int sharedBytes, nint stream, void** arguments) =>
        LaunchKernelWith(LaunchAttributeProgrammaticStreamSerialization, function, grid, block, sharedBytes, stream, arguments);

    /// <summary>
    /// cuLaunchKernelEx as a cooperative launch: every block of the grid is resident at once (or the launch fails), so
    /// that the blocks may wait for each other.
    /// </summary>
    public static void LaunchKernelCooperative(
        nint function, Dim3 grid, Dim3 block, int sharedBytes, nint stream, void** arguments) =>
        LaunchKernelWith(LaunchAttributeCooperative, function, grid, block, sharedBytes, stream, arguments);

    /// <summary>cuLaunchKernelEx with one launch attribute switched on.</summary>
    private static void LaunchKernelWith(
        int attributeId, nint function, Dim3 grid, Dim3 block, int sharedBytes, nint stream, void** arguments)
    {
        LaunchAttribute attribute = default;
        attribute.Id = attributeId;
        attribute.Value0 = 1;
        LaunchConfig config = new()
        {
            GridX = grid.X, GridY = grid.Y, GridZ = grid.Z,
            BlockX = block.X, BlockY = block.Y, BlockZ = block.Z,
            SharedBytes = (uint)sharedBytes,
            Stream = stream,
            Attributes = &attribute,
            AttributeCount = 1,
        };
        Check(cuLaunchKernelEx(&config, function, arguments, null), attributeId == LaunchAttributeCooperative ? "cuLaunchKernelEx (cooperative)" : "cuLaunchKernelEx");
    }

    private const int LaunchAttributeCooperative = 2;
    private const int LaunchAttributeProgrammaticStreamSerialization = 6;

    /// <summary>CUlaunchConfig.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct LaunchConfig
    {
        public uint GridX, GridY, GridZ, BlockX, BlockY, BlockZ, SharedBytes;
        public nint Stream;
        public LaunchAttribute* Attributes;
        public uint AttributeCount;
    }

    /// <summary>CUlaunchAttribute: the id, padding to 8 bytes, and a 64-byte value union (its first int here).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 72)]
    private struct LaunchAttribute
    {
        [FieldOffset(0)]
        public int Id;

        [FieldOffset(8)]
        public int Value0;
    }

    public static nint StreamCreate(bool nonBlocking)
    {
        nint stream;
        Check(cuStreamCreate(&stream, nonBlocking ? 1u : 0u), "cuStreamCreate");
        return stream;
    }

    public static void StreamSynchronize(nint stream) => Check(cuStreamSynchronize(stream), "cuStreamSynchronize");

    public static void StreamDestroy(nint stream) => Check(cuStreamDestroy_v2(stream), "cuStreamDestroy");

    public static nint EventCreate(bool timing)
    {
        const uint DisableTiming = 2;
        nint cudaEvent;
        Check(cuEventCreate(&cudaEvent, timing ? 0 : DisableTiming), "cuEventCreate");
        return cudaEvent;
    }

    public static void EventRecord(nint cudaEvent, nint stream) => Check(cuEventRecord(cudaEvent, stream), "cuEventRecord");

    public static void EventSynchronize(nint cudaEvent) => Check(cuEventSynchronize(cudaEvent), "cuEventSynchronize");

    public static float EventElapsedTime(nint start, nint end)
    {
        float milliseconds;
        if (Volatile.Read(ref s_elapsedTimeVersion) == 2)
        {
            try
            {
                Check(cuEventElapsedTime_v2(&milliseconds, start, end), "cuEventElapsedTime");
                return milliseconds;
            }
            catch (EntryPointNotFoundException)
            {
                Volatile.Write(ref s_elapsedTimeVersion, 1);
            }
        }
        Check(cuEventElapsedTime(&milliseconds, start, end), "cuEventElapsedTime");
        return milliseconds;
    }

    public static void EventDestroy(nint cudaEvent) => Check(cuEventDestroy_v2(cudaEvent), "cuEventDestroy");

    public static void StreamBeginCapture(nint stream, StreamCaptureMode mode) =>
        Check(cuStreamBeginCapture_v2(stream, mode), "cuStreamBeginCapture");

    public static nint StreamEndCapture(nint stream)
    {
        nint graph;
        Check(cuStreamEndCapture(stream, &graph), "cuStreamEndCapture");
        return graph;
    }

    public static nint GraphInstantiate(nint graph)
    {
        nint executable;
        Check(cuGraphInstantiateWithFlags(&executable, graph, 0), "cuGraphInstantiateWithFlags");
        return executable;
    }

    public static void GraphLaunch(nint executable, nint stream) => Check(cuGraphLaunch(executable, stream), "cuGraphLaunch");

    public static void GraphExecDestroy(nint executable) => Check(cuGraphExecDestroy(executable), "cuGraphExecDestroy");

    public static void GraphDestroy(nint graph) => Check(cuGraphDestroy(graph), "cuGraphDestroy");

    /// <summary>Throws <see cref="CudaException"/> for any result but success.</summary>
    public static void Check(CudaResult result, string call)
    {
        if (result != CudaResult.Success)
            throw new CudaException(call, (int)result, ErrorName(result), ErrorText(result));
    }

    /// <summary>The driver's name for a result (CUDA_ERROR_NO_DEVICE), or its number when the driver has none.</summary>
    public static string ErrorName(CudaResult result)
    {
        byte* text;
        return cuGetErrorName(result, &text) == CudaResult.Success && text != null
            ? Marshal.PtrToStringUTF8((nint)text)!
            : $"CUresult {(int)result}";
    }

    public static string ErrorText(CudaResult result)
    {
        byte* text;
        return cuGetErrorString(result, &text) == CudaResult.Success && text != null
            ? Marshal.PtrToStringUTF8((nint)text)!
            : "no description from the driver";
    }

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuInit(uint flags);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuDriverGetVersion(int* version);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuDeviceGetCount(int* count);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuDeviceGet(int* device, int ordinal);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuDeviceGetName(byte* name, int length, int device);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuDeviceGetAttribute(int* value, CudaDeviceAttribute attribute, int device);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuDeviceTotalMem_v2(nuint* bytes, int device);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuDevicePrimaryCtxRetain(nint* context, int device);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuDevicePrimaryCtxRelease_v2(int device);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuCtxSetCurrent(nint context);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuCtxSynchronize();

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuMemGetInfo_v2(nuint* free, nuint* total);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuMemAlloc_v2(ulong* pointer, nuint bytes);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuMemFree_v2(ulong pointer);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuMemAllocHost_v2(void** pointer, nuint bytes);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuMemFreeHost(void* pointer);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuMemcpyHtoD_v2(ulong destination, void* source, nuint bytes);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuMemcpyDtoH_v2(void* destination, ulong source, nuint bytes);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuMemcpyDtoD_v2(ulong destination, ulong source, nuint bytes);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuMemcpyHtoDAsync_v2(ulong destination, void* source, nuint bytes, nint stream);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuMemcpyDtoHAsync_v2(void* destination, ulong source, nuint bytes, nint stream);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuMemcpyDtoDAsync_v2(ulong destination, ulong source, nuint bytes, nint stream);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuMemsetD8_v2(ulong destination, byte value, nuint count);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuMemsetD32_v2(ulong destination, uint value, nuint count);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuMemsetD8Async(ulong destination, byte value, nuint count, nint stream);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuMemsetD32Async(ulong destination, uint value, nuint count, nint stream);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuModuleLoadData(nint* module, void* image);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuModuleUnload(nint module);

    [LibraryImport(CudaLibraries.Driver, StringMarshalling = StringMarshalling.Utf8)]
    private static partial CudaResult cuModuleGetFunction(nint* function, nint module, string name);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuFuncGetAttribute(int* value, CudaFunctionAttribute attribute, nint function);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuFuncSetAttribute(nint function, CudaFunctionAttribute attribute, int value);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuFuncGetParamInfo(nint function, nuint index, nuint* offset, nuint* size);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuLaunchKernelEx(LaunchConfig* config, nint function, void** arguments, void** extra);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuLaunchKernel(
        nint function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ,
        uint sharedBytes, nint stream, void** parameters, void** extra);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuStreamCreate(nint* stream, uint flags);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuStreamSynchronize(nint stream);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuStreamDestroy_v2(nint stream);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuEventCreate(nint* cudaEvent, uint flags);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuEventRecord(nint cudaEvent, nint stream);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuEventSynchronize(nint cudaEvent);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuEventElapsedTime(float* milliseconds, nint start, nint end);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuEventElapsedTime_v2(float* milliseconds, nint start, nint end);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuEventDestroy_v2(nint cudaEvent);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuStreamBeginCapture_v2(nint stream, StreamCaptureMode mode);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuStreamEndCapture(nint stream, nint* graph);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuGraphInstantiateWithFlags(nint* executable, nint graph, ulong flags);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuGraphLaunch(nint executable, nint stream);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuGraphExecDestroy(nint executable);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuGraphDestroy(nint graph);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuGetErrorName(CudaResult result, byte** name);

    [LibraryImport(CudaLibraries.Driver)]
    private static partial CudaResult cuGetErrorString(CudaResult result, byte** text);
}
