using System.Text;

namespace Tern.Cuda.Inference;

/// <summary>
/// The inference kernels (Inference/Kernels/*.cu), joined after infer_common.cuh into one NVRTC program, compiled once
/// per device and kept in the disk cache. <c>#line</c> markers keep compiler messages pointing at the right file and
/// line. <c>--fmad=false</c> keeps multiplies and adds separately rounded, as the CPU engine computes them: the
/// element-wise kernels are memory-bound, so fused multiply-adds would buy nothing but disagreement.
/// </summary>
internal sealed class CudaInferenceKernels : IDisposable
{
    private static readonly string[] SourceFiles = ["infer_common.cuh", "infer_norms.cu", "infer_ternary.cu", "infer_float.cu", "infer_attention.cu"];

    /// <summary>Tokens one launch of the matrix-vector kernels computes (TERNARY_MAX_TOKENS, FLOAT_MAX_TOKENS).</summary>
    public const int MatvecTokens = 8;

    /// <summary>The largest head the attention kernel takes (ATTENTION_MAX_DIMS × 256 threads).</summary>
    public const int AttentionMaxHeadDim = 1024;

    private readonly CudaModule _module;

    public CudaInferenceKernels(KernelCompiler compiler)
    {
        var text = new StringBuilder();
        foreach (string file in SourceFiles)
        {
            text.Append("#line 1 \"").Append(file).Append("\"\n");
            text.Append(KernelSource.FromResource(typeof(CudaInferenceKernels).Assembly, file).Text).Append('\n');
        }

        var options = new KernelCompileOptions { ExtraOptions = ["--fmad=false"], LineInfo = false };
        _module = compiler.Compile(KernelSource.FromText("tern_inference.cu", text.ToString()), options);
        RmsNormQuantize = _module.GetKernel("rmsnorm_quantize");
        RmsNorm = _module.GetKernel("rmsnorm");
        GatedNormQuantize = _module.GetKernel("gated_norm_quantize");
        TernaryMatvec = _module.GetKernel("ternary_matvec");
        TernaryUnpack = _module.GetKernel("ternary_unpack");
        ScaleProducts = _module.GetKernel("scale_products");
        FloatMatvec = _module.GetKernel("float_matvec");
        AddRows = _module.GetKernel("add_rows");
        RopeStore = _module.GetKernel("rope_store");
        Attention = _module.GetKernel("attention");
        // A row of scores for the whole context lives in shared memory: let launches use all a block may have.
        Attention.SetMaxDynamicSharedMemory(compiler.Context.MaxSharedMemoryPerBlockOptIn - Attention.StaticSharedBytes);
    }

    public CudaKernel RmsNormQuantize { get; }
    public CudaKernel RmsNorm { get; }
    public CudaKernel GatedNormQuantize { get; }
    public CudaKernel TernaryMatvec { get; }
    public CudaKernel TernaryUnpack { get; }
    public CudaKernel ScaleProducts { get; }
    public CudaKernel FloatMatvec { get; }
    public CudaKernel AddRows { get; }
    public CudaKernel RopeStore { get; }
    public CudaKernel Attention { get; }

    public void Dispose() => _module.Dispose();
}
