using System.Runtime.InteropServices;

namespace Tern.Cuda.Interop;

/// <summary>
/// The cuBLASLt calls <see cref="CublasGemm"/> makes (cublasLt.h), each checked: a failure throws
/// <see cref="CudaException"/> with cuBLAS's status name and description. Handles and descriptors are opaque
/// pointers; cudaStream_t is the driver's CUstream.
/// </summary>
internal static unsafe partial class CublasLt
{
    // cudaDataType_t (library_types.h).
    public const int DataTypeFloat32 = 0;
    public const int DataTypeBFloat16 = 14;
    public const int DataTypeInt8 = 3;
    public const int DataTypeInt32 = 10;

    // cublasComputeType_t (cublas_api.h).
    public const int ComputeFloat32 = 68;
    public const int ComputeFloat32FastTf32 = 77;
    public const int ComputeInt32 = 72;

    // cublasOperation_t.
    public const int OperationNone = 0;
    public const int OperationTranspose = 1;

    // cublasLtMatmulDescAttributes_t.
    public const int DescriptionTransposeA = 3;
    public const int DescriptionTransposeB = 4;

    // cublasLtMatrixLayoutAttribute_t.
    public const int LayoutBatchCount = 5;
    public const int LayoutStridedBatchOffset = 6;

    // cublasLtMatmulPreferenceAttributes_t.
    public const int PreferenceMaxWorkspaceBytes = 1;
    public const int PreferenceMinAlignmentABytes = 5;
    public const int PreferenceMinAlignmentBBytes = 6;
    public const int PreferenceMinAlignmentCBytes = 7;
    public const int PreferenceMinAlignmentDBytes = 8;

    static CublasLt() => CudaLibraries.EnsureResolver();

    /// <summary>cuBLASLt's version as major·10000 + minor·100 + patch (130100 for 13.1.0).</summary>
    public static long Version() => (long)cublasLtGetVersion();

    public static nint Create()
    {
        nint handle;
        Check(cublasLtCreate(&handle), "cublasLtCreate");
        return handle;
    }

    public static void Destroy(nint handle) => Check(cublasLtDestroy(handle), "cublasLtDestroy");

    public static nint MatmulDescCreate(int computeType, int scaleType)
    {
        nint description;
        Check(cublasLtMatmulDescCreate(&description, computeType, scaleType), "cublasLtMatmulDescCreate");
        return description;
    }

    public static void MatmulDescDestroy(nint description) => Check(cublasLtMatmulDescDestroy(description), "cublasLtMatmulDescDestroy");

    public static void MatmulDescSetAttribute(nint description, int attribute, int value) =>
        Check(cublasLtMatmulDescSetAttribute(description, attribute, &value, sizeof(int)), "cublasLtMatmulDescSetAttribute");

    public static nint MatrixLayoutCreate(int dataType, long rows, long columns, long leadingDimension)
    {
        nint layout;
        Check(cublasLtMatrixLayoutCreate(&layout, dataType, (ulong)rows, (ulong)columns, leadingDimension), "cublasLtMatrixLayoutCreate");
        return layout;
    }

    public static void MatrixLayoutSetAttribute(nint layout, int attribute, int value) =>
        Check(cublasLtMatrixLayoutSetAttribute(layout, attribute, &value, sizeof(int)), "cublasLtMatrixLayoutSetAttribute");

    public static void MatrixLayoutSetAttribute(nint layout, int attribute, long value) =>
        Check(cublasLtMatrixLayoutSetAttribute(layout, attribute, &value, sizeof(long)), "cublasLtMatrixLayoutSetAttribute");

    public static void MatrixLayoutDestroy(nint layout) => Check(cublasLtMatrixLayoutDestroy(layout), "cublasLtMatrixLayoutDestroy");

    public static nint MatmulPreferenceCreate()
    {
        nint preference;
        Check(cublasLtMatmulPreferenceCreate(&preference), "cublasLtMatmulPreferenceCreate");
        return preference;
    }

    public static void MatmulPreferenceDestroy(nint preference) =>
        Check(cublasLtMatmulPreferenceDestroy(preference), "cublasLtMatmulPreferenceDestroy");

    public static void MatmulPreferenceSetAttribute(nint preference, int attribute, ulong value) =>
        Check(cublasLtMatmulPreferenceSetAttribute(preference, attribute, &value, sizeof(ulong)), "cublasLtMatmulPreferenceSetAttribute");

    public static void MatmulPreferenceSetAttribute(nint preference, int attribute, uint value) =>
        Check(cublasLtMatmulPreferenceSetAttribute(preference, attribute, &value, sizeof(uint)), "cublasLtMatmulPreferenceSetAttribute");

    /// <summary>The best algorithm by cuBLASLt's heuristic, or false when it has none for this problem.</summary>
    public static bool MatmulAlgoGetHeuristic(
        nint handle, nint description, nint layoutA, nint layoutB, nint layoutC, nint layoutD, nint preference,
        out CublasLtHeuristicResult result)
    {
        CublasLtHeuristicResult best;
        int returned;
        Check(
            cublasLtMatmulAlgoGetHeuristic(handle, description, layoutA, layoutB, layoutC, layoutD, preference, 1, &best, &returned),
            "cublasLtMatmulAlgoGetHeuristic");
        result = best;
        return returned > 0 && best.State == 0;
    }

    public static void Matmul(
        nint handle, nint description, float alpha, ulong a, nint layoutA, ulong b, nint layoutB, float beta,
        ulong c, nint layoutC, ulong d, nint layoutD, CublasLtHeuristicResult* algorithm, ulong workspace,
        long workspaceBytes, nint stream) =>
        Check(
            cublasLtMatmul(handle, description, &alpha, a, layoutA, b, layoutB, &beta, c, layoutC, d, layoutD,
                algorithm, workspace, (nuint)workspaceBytes, stream),
            "cublasLtMatmul");

    /// <summary>A product whose scale type is int32 (int8 inputs): α and β are integers.</summary>
    public static void Matmul(
        nint handle, nint description, int alpha, ulong a, nint layoutA, ulong b, nint layoutB, int beta,
        ulong c, nint layoutC, ulong d, nint layoutD, CublasLtHeuristicResult* algorithm, ulong workspace,
        long workspaceBytes, nint stream) =>
        Check(
            cublasLtMatmul(handle, description, &alpha, a, layoutA, b, layoutB, &beta, c, layoutC, d, layoutD,
                algorithm, workspace, (nuint)workspaceBytes, stream),
            "cublasLtMatmul");

    private static void Check(int status, string call)
    {
        if (status != 0)
            throw new CudaException(call, status, StatusName(status), StatusText(status));
    }

    private static string StatusName(int status)
    {
        try
        {
            return Marshal.PtrToStringUTF8((nint)cublasLtGetStatusName(status)) ?? $"cublasStatus_t {status}";
        }
        catch (EntryPointNotFoundException)
        {
            return $"cublasStatus_t {status}";
        }
    }

    private static string StatusText(int status)
    {
        try
        {
            return Marshal.PtrToStringUTF8((nint)cublasLtGetStatusString(status)) ?? "no description";
        }
        catch (EntryPointNotFoundException)
        {
            return "no description from this cuBLASLt";
        }
    }

    [LibraryImport(CudaLibraries.CublasLt)]
    private static partial nuint cublasLtGetVersion();

    [LibraryImport(CudaLibraries.CublasLt)]
    private static partial int cublasLtCreate(nint* handle);

    [LibraryImport(CudaLibraries.CublasLt)]
    private static partial int cublasLtDestroy(nint handle);

    [LibraryImport(CudaLibraries.CublasLt)]
    private static partial int cublasLtMatmulDescCreate(nint* description, int computeType, int scaleType);

    [LibraryImport(CudaLibraries.CublasLt)]
    private static partial int cublasLtMatmulDescDestroy(nint description);

    [LibraryImport(CudaLibraries.CublasLt)]
    private static partial int cublasLtMatmulDescSetAttribute(nint description, int attribute, void* value, nuint size);

    [LibraryImport(CudaLibraries.CublasLt)]
    private static partial int cublasLtMatrixLayoutCreate(nint* layout, int dataType, ulong rows, ulong columns, long leadingDimension);

    [LibraryImport(CudaLibraries.CublasLt)]
    private static partial int cublasLtMatrixLayoutDestroy(nint layout);

    [LibraryImport(CudaLibraries.CublasLt)]
    private static partial int cublasLtMatrixLayoutSetAttribute(nint layout, int attribute, void* value, nuint size);

    [LibraryImport(CudaLibraries.CublasLt)]
    private static partial int cublasLtMatmulPreferenceCreate(nint* preference);

    [LibraryImport(CudaLibraries.CublasLt)]
    private static partial int cublasLtMatmulPreferenceDestroy(nint preference);

    [LibraryImport(CudaLibraries.CublasLt)]
    private static partial int cublasLtMatmulPreferenceSetAttribute(nint preference, int attribute, void* value, nuint size);

    [LibraryImport(CudaLibraries.CublasLt)]
    private static partial int cublasLtMatmulAlgoGetHeuristic(
        nint handle, nint description, nint layoutA, nint layoutB, nint layoutC, nint layoutD, nint preference,
        int requested, CublasLtHeuristicResult* results, int* returned);

    [LibraryImport(CudaLibraries.CublasLt)]
    private static partial int cublasLtMatmul(
        nint handle, nint description, void* alpha, ulong a, nint layoutA, ulong b, nint layoutB, void* beta,
        ulong c, nint layoutC, ulong d, nint layoutD, CublasLtHeuristicResult* algorithm, ulong workspace,
        nuint workspaceBytes, nint stream);

    [LibraryImport(CudaLibraries.CublasLt)]
    private static partial byte* cublasLtGetStatusName(int status);

    [LibraryImport(CudaLibraries.CublasLt)]
    private static partial byte* cublasLtGetStatusString(int status);
}
