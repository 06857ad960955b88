using System.Text;

namespace Tern.Cuda.Inference;

/// <summary>
/// The inference kernels (Inference/Kernels/*.cu), joined after reductions.cuh and infer_common.cuh into one NVRTC program, compiled once
/// per device and kept in the disk cache. <c>#line</c> markers keep compiler messages pointing at the right file and
/// line. <c>--fmad=false</c> keeps multiplies and adds separately rounded, as the CPU engine computes them: the
/// element-wise kernels are memory-bound, so fused multiply-adds would buy nothing but disagreement.
/// </summary>
internal sealed class CudaInferenceKernels : IDisposable
{
    private static readonly string[] SourceFiles = ["infer_common.cuh", "infer_timeline.cuh", "infer_bulk.cuh", "infer_norms.cu", "infer_ternary.cu", "infer_float.cu", "infer_q8.cu", "infer_attention.cu", "infer_decode.cu", "infer_step.cu", "infer_sample.cu"];

    /// <summary>Tokens one launch of the matrix-vector kernels computes (TERNARY_MAX_TOKENS, FLOAT_MAX_TOKENS).</summary>
    public const int MatvecTokens = 8;

    /// <summary>Shared memory for the chunk statistics of a row of <paramref name="width"/> columns (block_norm_scales).</summary>
    public static int NormChunkBytes(int width) =>
        2 * sizeof(float) * ((width + Tern.Kernels.ChunkOrderSum.ChunkLength - 1) / Tern.Kernels.ChunkOrderSum.ChunkLength);

    /// <summary>The largest head the attention kernel takes (ATTENTION_MAX_DIMS × 256 threads).</summary>
    public const int AttentionMaxHeadDim = 1024;

    private readonly CudaModule _module;

    public CudaInferenceKernels(KernelCompiler compiler)
    {
        var text = new StringBuilder();
        text.Append("#line 1 \"reductions.cuh\"\n").Append(SharedKernelSources.Reductions.Text).Append('\n');
        foreach (string file in SourceFiles)
        {
            text.Append("#line 1 \"").Append(file).Append("\"\n");
            text.Append(KernelSource.FromResource(typeof(CudaInferenceKernels).Assembly, file).Text).Append('\n');
        }

        // TERN_CUDA_DEFINES (space-separated NAME or NAME=VALUE) switches the kernels' experiment hooks on, e.g. STEP_TIMING or KERNEL_TIMELINE.
        string[] defines = (Environment.GetEnvironmentVariable("TERN_CUDA_DEFINES") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var options = new KernelCompileOptions { ExtraOptions = ["--fmad=false"], LineInfo = false, Defines = defines };
        _module = compiler.Compile(KernelSource.FromText("tern_inference.cu", text.ToString()), options);
        RmsNormQuantize = _module.GetKernel("rmsnorm_quantize");
        GatedNormQuantize = _module.GetKernel("gated_norm_quantize");
        TernaryMatvec = _module.GetKernel("ternary_matvec");
        TernaryUnpack = _module.GetKernel("ternary_unpack");
        ScaleProducts = _module.GetKernel("scale_products");
        FloatMatvec = _module.GetKernel("float_matvec");
        AddRows = _module.GetKernel("add_rows");
        QuantizeQ8 = _module.GetKernel("quantize_q8_0");
        Q8Matvec = _module.GetKernel("q8_matvec");
        RopeStore = _module.GetKernel("rope_store");
        Attention = _module.GetKernel("attention");
        AttentionTiled = _module.GetKernel("attention_tiled");
        DecodeTernary = _module.GetKernel("decode_ternary");
        DecodeGateUp = _module.GetKernel("decode_gate_up");
        AttentionDecode = _module.GetKernel("attention_decode");
        DecodeStep = _module.GetKernel("decode_step");
        ArgMax = _module.GetKernel("argmax");
        // A row of scores for the whole context, or a staged input row, lives in shared memory: let launches use all a
        // block may have.
        foreach (var kernel in new[] { Attention, AttentionTiled, DecodeTernary, DecodeGateUp, AttentionDecode, DecodeStep })
            kernel.SetMaxDynamicSharedMemory(compiler.Context.MaxSharedMemoryPerBlockOptIn - kernel.StaticSharedBytes);
        // The decoding kernels overlap (programmatic dependent launch) and need most of an SM's shared memory. An SM
        // changes its L1/shared split only when idle, so the kernels of a decoding step ask for the same split: all shared.
        // (The prompt path's kernels keep the driver's choice: its attention kernel reads through L1.)
        foreach (var kernel in new[] { RmsNormQuantize, FloatMatvec, QuantizeQ8, Q8Matvec, DecodeTernary, DecodeGateUp, AttentionDecode, DecodeStep })
            kernel.SetPreferredSharedCarveout(100);
        DecodeSharedLimit = compiler.Context.MaxSharedMemoryPerBlockOptIn - Math.Max(DecodeTernary.StaticSharedBytes, DecodeGateUp.StaticSharedBytes);
        DecodeStepSharedLimit = compiler.Context.MaxSharedMemoryPerBlockOptIn - DecodeStep.StaticSharedBytes;
    }

    public CudaKernel RmsNormQuantize { get; }
    public CudaKernel GatedNormQuantize { get; }
    public CudaKernel TernaryMatvec { get; }
    public CudaKernel TernaryUnpack { get; }
    public CudaKernel ScaleProducts { get; }
    public CudaKernel FloatMatvec { get; }
    public CudaKernel AddRows { get; }
    public CudaKernel QuantizeQ8 { get; }
    public CudaKernel Q8Matvec { get; }
    public CudaKernel RopeStore { get; }
    public CudaKernel Attention { get; }
    public CudaKernel AttentionTiled { get; }

    /// <summary>attention_tiled's tokens per block (TILE_QUERIES) and key or value rows per tile (TILE_POSITIONS).</summary>
    public const int TileQueries = 8, TilePositions = 32;
    public CudaKernel DecodeTernary { get; }
    public CudaKernel DecodeGateUp { get; }
    public CudaKernel AttentionDecode { get; }

    /// <summary>A whole decoding step in one persistent kernel (infer_step.cu).</summary>
    public CudaKernel DecodeStep { get; }

    /// <summary>The index of the largest value, as Session.ArgMax picks it (infer_sample.cu; see <see cref="DeviceArgMax"/>).</summary>
    public CudaKernel ArgMax { get; }

    /// <summary>The dynamic shared memory decode_ternary and decode_gate_up may use.</summary>
    public int DecodeSharedLimit { get; }

    /// <summary>The dynamic shared memory decode_step may use.</summary>
    public int DecodeStepSharedLimit { get; }

    public void Dispose() => _module.Dispose();
}
