namespace Tern.Cuda.Interop;

/// <summary>CUfunction_attribute values (cuda.h) that <see cref="CudaKernel"/> reads or sets.</summary>
internal enum CudaFunctionAttribute
{
    MaxThreadsPerBlock = 0,
    SharedSizeBytes = 1,
    LocalSizeBytes = 3,
    NumRegisters = 4,
    MaxDynamicSharedSizeBytes = 8,
    PreferredSharedMemoryCarveout = 9,
}
