using System.Runtime.InteropServices;

namespace Tern.Cuda.Interop;

/// <summary>
/// cublasLtMatmulHeuristicResult_t (cublasLt.h): the chosen algorithm (an opaque 64-byte cublasLtMatmulAlgo_t, which
/// cublasLtMatmul takes by pointer: it is this struct's first field), the workspace it needs and its status.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct CublasLtHeuristicResult
{
    public fixed ulong Algorithm[8];
    public nuint WorkspaceSize;
    public int State;
    public float WavesCount;
    public fixed int Reserved[4];
}
