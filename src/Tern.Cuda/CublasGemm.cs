using Tern.Cuda.Interop;

namespace Tern.Cuda;

/// <summary>
/// Matrix products through cuBLASLt on row-major matrices: C = α·op(A)·op(B) + β·C (<see cref="GemmDescription"/>
/// says which is which), float32 output with float32, TF32 or bfloat16 inputs.
/// <para>
/// cuBLAS is column-major. A row-major R×C matrix with row stride ld occupies memory exactly as the column-major
/// C×R matrix, its transpose, with leading dimension ld. So, with no copy, cuBLASLt is asked for the transposed
/// product Cᵀ = op(B)ᵀ·op(A)ᵀ: its first operand is our B, its second our A, its M and N are our N and M, each
/// operand keeps its own transpose flag, and the column-major Cᵀ it writes is our row-major C.
/// </para>
/// <para>
/// The first product of each shape (and pointer alignment) asks cuBLASLt's heuristic for an algorithm and keeps the
/// descriptors; later ones reuse them. The workspace (32 MiB by default, NVIDIA's advice for Hopper) is allocated
/// once. Not thread-safe, and the workspace is shared: use one instance per stream that runs products concurrently.
/// </para>
/// </summary>
public sealed class CublasGemm : IDisposable
{
    public const long DefaultWorkspaceBytes = 32L << 20;

    private readonly Dictionary<(GemmDescription Gemm, int AlignA, int AlignB, int AlignC), GemmPlan> _plans = [];
    private readonly DeviceBuffer<byte> _workspace;
    private nint _handle;

    public CublasGemm(CudaContext context, long workspaceBytes = DefaultWorkspaceBytes)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentOutOfRangeException.ThrowIfLessThan(workspaceBytes, 256);
        Context = context;
        CudaLibraries.CublasLtLibrary.RequireHandle();
        CudaLibraries.EnsureResolver();
        context.MakeCurrent();
        long version = CublasLt.Version();
        Version = $"{version / 10000}.{version / 100 % 100}.{version % 100}";
        _workspace = new DeviceBuffer<byte>(context, workspaceBytes);
        try
        {
            _handle = CublasLt.Create();
        }
        catch
        {
            _workspace.Dispose();
            throw;
        }
    }

    public CudaContext Context { get; }

    /// <summary>cuBLASLt's version, e.g. "13.1.0".</summary>
    public string Version { get; }

    public long WorkspaceBytes => _workspace.ByteLength;

    /// <summary>How many shapes have an algorithm chosen and kept.</summary>
    public int CachedPlanCount => _plans.Count;

    /// <summary>
    /// Queues C = α·op(A)·op(B) + β·C on <paramref name="stream"/> (the legacy default stream when null). A and B hold
    /// float32 or, for <see cref="GemmPrecision.BFloat16"/>, bfloat16 (ushort); C is float32. For
    /// <see cref="GemmPrecision.Int8"/> A and B are sbyte, C is int32 and α, β must be integers. With β = 0, C is only
    /// written, so it may hold anything, NaN included.
    /// </summary>
    public void Multiply(GemmDescription gemm, DevicePointer a, DevicePointer b, DevicePointer c,
        float alpha = 1, float beta = 0, CudaStream? stream = null)
    {
        gemm.Validate();
        if (a.IsNull || b.IsNull || c.IsNull)
            throw new ArgumentException($"a null matrix pointer for {gemm}");
        ObjectDisposedException.ThrowIf(_handle == 0, this);
        Context.MakeCurrent();
        var key = (gemm, a.Alignment, b.Alignment, c.Alignment);
        if (!_plans.TryGetValue(key, out GemmPlan? plan))
        {
            plan = new GemmPlan(_handle, gemm, key.Item2, key.Item3, key.Item4, _workspace.ByteLength);
            _plans.Add(key, plan);
        }
        plan.Run(_handle, alpha, a, b, beta, c, _workspace.Pointer, _workspace.ByteLength, stream?.Handle ?? 0);
    }

    /// <summary>
    /// <see cref="Multiply(GemmDescription, DevicePointer, DevicePointer, DevicePointer, float, float, CudaStream?)"/>
    /// on whole buffers, checking that their element type fits the precision (float, or ushort for bfloat16) and that
    /// each holds the matrix the description implies.
    /// </summary>
    public unsafe void Multiply<TInput>(GemmDescription gemm, DeviceBuffer<TInput> a, DeviceBuffer<TInput> b, DeviceBuffer<float> c,
        float alpha = 1, float beta = 0, CudaStream? stream = null)
        where TInput : unmanaged
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(c);
        gemm.Validate();
        if (sizeof(TInput) != gemm.InputElementBytes)
            throw new ArgumentException($"{gemm.Precision} takes {gemm.InputElementBytes}-byte inputs, not {typeof(TInput).Name}");
        RequireLength("A", a.Length, gemm.ElementsA, gemm);
        RequireLength("B", b.Length, gemm.ElementsB, gemm);
        RequireLength("C", c.Length, gemm.ElementsC, gemm);
        Multiply(gemm, a.Pointer, b.Pointer, c.Pointer, alpha, beta, stream);
    }

    public void Dispose()
    {
        if (_handle == 0)
            return;
        Context.MakeCurrent();
        foreach (GemmPlan plan in _plans.Values)
            plan.Dispose();
        _plans.Clear();
        CublasLt.Destroy(_handle);
        _handle = 0;
        _workspace.Dispose();
    }

    private static void RequireLength(string matrix, long length, long needed, GemmDescription gemm)
    {
        if (length < needed)
            throw new ArgumentException($"{matrix} holds {length} elements; {gemm} needs {needed}");
    }
}
