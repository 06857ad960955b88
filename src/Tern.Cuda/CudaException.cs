namespace Tern.Cuda;

/// <summary>
/// A CUDA driver, NVRTC or cuBLASLt call that failed: the call's name, the library's name for the error and its
/// description, e.g. "cuMemAlloc failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory)".
/// </summary>
public sealed class CudaException : Exception
{
    public CudaException(string call, int errorCode, string errorName, string errorText)
        : base($"{call} failed: {errorName} ({errorText})")
    {
        Call = call;
        ErrorCode = errorCode;
        ErrorName = errorName;
        ErrorText = errorText;
    }

    public CudaException()
        : this("a CUDA call", -1, "unknown", "no detail")
    {
    }

    public CudaException(string message)
        : base(message)
    {
        Call = ErrorName = ErrorText = "";
    }

    public CudaException(string message, Exception innerException)
        : base(message, innerException)
    {
        Call = ErrorName = ErrorText = "";
    }

    /// <summary>The function that failed, as NVIDIA's documentation names it (cuMemAlloc, nvrtcCompileProgram, cublasLtMatmul).</summary>
    public string Call { get; }

    /// <summary>The numeric result (CUresult, nvrtcResult or cublasStatus_t).</summary>
    public int ErrorCode { get; }

    /// <summary>The result's name, e.g. CUDA_ERROR_OUT_OF_MEMORY.</summary>
    public string ErrorName { get; }

    /// <summary>The library's description of the result.</summary>
    public string ErrorText { get; }
}
