using System.Text;
using Tern.Cuda;

namespace Tern.Training.Cuda;

/// <summary>
/// The CUDA trainer's kernels (Cuda/Kernels/*.cu), joined after Tern.Cuda's reductions.cuh and common.cuh into one NVRTC program and compiled once
/// per operand precision (the disk cache keeps both). <c>#line</c> markers keep compiler messages pointing at the
/// right file and line. <c>--fmad=false</c> keeps multiplies and adds separately rounded, as the CPU trainer computes
/// them: these kernels are memory-bound, so fused multiply-adds would buy nothing but disagreement.
/// </summary>
internal sealed class CudaTrainingKernels : IDisposable
{
    private static readonly string[] SourceFiles = ["common.cuh", "norms.cu", "residual.cu", "attention.cu", "attention_flash.cu", "feedforward.cu", "head.cu", "optimizer.cu"];

    /// <summary>The head sizes attention_flash.cu is instantiated for.</summary>
    public static readonly int[] FlashHeadSizes = [16, 32, 64];

    private readonly CudaModule _module;

    public CudaTrainingKernels(KernelCompiler compiler, CudaTrainingPrecision precision)
    {
        var text = new StringBuilder();
        text.Append("#line 1 \"reductions.cuh\"\n").Append(SharedKernelSources.Reductions.Text).Append('\n');
        foreach (string file in SourceFiles)
        {
            text.Append("#line 1 \"").Append(file).Append("\"\n");
            text.Append(KernelSource.FromResource(typeof(CudaTrainingKernels).Assembly, file).Text).Append('\n');
        }

        var options = new KernelCompileOptions
        {
            Defines = precision == CudaTrainingPrecision.Float32 ? ["OPERAND_FLOAT32"] : [],
            ExtraOptions = ["--fmad=false"],
            // Line information off: NVRTC 11.8 crashes compiling template instantiations with -lineinfo, and nothing
            // here needs it at run time.
            LineInfo = false,
        };
        _module = compiler.Compile(KernelSource.FromText("tern_training.cu", text.ToString()), options);
        RmsNormQuantize = _module.GetKernel("rmsnorm_quantize");
        RmsNormBackward = _module.GetKernel("rmsnorm_backward");
        ReducePartials = _module.GetKernel("reduce_partials");
        EmbeddingForward = _module.GetKernel("embedding_forward");
        ResidualDropoutAdd = _module.GetKernel("residual_dropout_add");
        ProjectionGradient = _module.GetKernel("projection_gradient");
        EmbeddingBackward = _module.GetKernel("embedding_backward");
        RopePermuteForward = _module.GetKernel("rope_permute_forward");
        CausalSoftmax = _module.GetKernel("causal_softmax");
        AttentionUnpermute = _module.GetKernel("attention_unpermute");
        AttentionOutputGradient = _module.GetKernel("attention_output_gradient");
        SoftmaxBackward = _module.GetKernel("softmax_backward");
        AttentionDropout = _module.GetKernel("attention_dropout");
        RopeBackwardUnpermute = _module.GetKernel("rope_backward_unpermute");
        GatedForward = _module.GetKernel("gated_forward");
        GatedBackward = _module.GetKernel("gated_backward");
        CrossEntropy = _module.GetKernel("cross_entropy");
        SumLosses = _module.GetKernel("sum_losses");
        ChunkSums = _module.GetKernel("chunk_sums");
        WeightGammas = _module.GetKernel("weight_gammas");
        WeightOperands = _module.GetKernel("weight_operands");
        GradientNorm = _module.GetKernel("gradient_norm");
        AdamW = _module.GetKernel("adamw");
        AttentionRowDot = _module.GetKernel("attention_row_dot");
    }

    /// <summary>Whether the binary came from the disk cache (NVRTC did not run).</summary>
    public bool LoadedFromCache => _module.LoadedFromCache;

    public CudaKernel RmsNormQuantize { get; }
    public CudaKernel RmsNormBackward { get; }
    public CudaKernel ReducePartials { get; }
    public CudaKernel EmbeddingForward { get; }
    public CudaKernel ResidualDropoutAdd { get; }
    public CudaKernel ProjectionGradient { get; }
    public CudaKernel EmbeddingBackward { get; }
    public CudaKernel RopePermuteForward { get; }
    public CudaKernel CausalSoftmax { get; }
    public CudaKernel AttentionUnpermute { get; }
    public CudaKernel AttentionOutputGradient { get; }
    public CudaKernel SoftmaxBackward { get; }
    public CudaKernel AttentionDropout { get; }
    public CudaKernel RopeBackwardUnpermute { get; }
    public CudaKernel GatedForward { get; }
    public CudaKernel GatedBackward { get; }
    public CudaKernel CrossEntropy { get; }
    public CudaKernel SumLosses { get; }
    public CudaKernel ChunkSums { get; }
    public CudaKernel WeightGammas { get; }
    public CudaKernel WeightOperands { get; }
    public CudaKernel GradientNorm { get; }
    public CudaKernel AdamW { get; }
    public CudaKernel AttentionRowDot { get; }

    /// <summary>flash_forward_HD, flash_backward_keys_HD, flash_backward_queries_HD for head size <paramref name="headDim"/>.</summary>
    public (CudaKernel Forward, CudaKernel BackwardKeys, CudaKernel BackwardQueries) Flash(int headDim) =>
        (_module.GetKernel($"flash_forward_{headDim}"), _module.GetKernel($"flash_backward_keys_{headDim}"), _module.GetKernel($"flash_backward_queries_{headDim}"));

    public void Dispose() => _module.Dispose();
}
