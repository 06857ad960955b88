namespace Tern.Cuda.Interop;

/// <summary>CUresult: the values Tern.Cuda acts on by name. Any other value is reported through cuGetErrorName.</summary>
internal enum CudaResult
{
    Success = 0,
    InvalidValue = 1,
    OutOfMemory = 2,
    NotInitialized = 3,
    Deinitialized = 4,
    NoDevice = 100,
    InvalidDevice = 101,
    InsufficientDriver = 35,
    NoBinaryForGpu = 209,
    UnsupportedPtxVersion = 222,
    NotFound = 500,
    NotSupported = 801,
    SystemDriverMismatch = 803,
    CompatNotSupportedOnDevice = 804,
}
