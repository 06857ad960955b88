using System.Diagnostics.CodeAnalysis;
using Tern.Gguf;
using Tern.Inference.Placement;
using Tern.Models;
using Tern.Runtime;

namespace Tern.Cuda.Inference;

/// <summary>
/// The GPU behind <see cref="IAccelerator"/>: one CUDA device, its kernel compiler and cuBLASLt, shared by the
/// models placed on it. <see cref="TryCreate"/> is the way in that never throws.
/// </summary>
public sealed class CudaAccelerator : IAccelerator, IDisposable
{
    private readonly Lock _gate = new();
    private KernelCompiler? _compiler;
    private CudaInferenceKernels? _kernels;

    private CudaAccelerator(CudaContext context)
    {
        Context = context;
    }

    public CudaContext Context { get; }

    public string Description => $"CUDA: {Context.Name} ({Context.Architecture})";

    /// <summary>
    /// Whether a decoding step whose blocks all fit runs as one persistent kernel (decode_step) instead of five
    /// overlapped launches a block. Off by default: on the H100 it measured slower (docs/performance.md); the
    /// environment variable TERN_CUDA_DECODE=step switches it on, to compare the two.
    /// </summary>
    public bool PersistentDecode { get; set; } = Environment.GetEnvironmentVariable("TERN_CUDA_DECODE") == "step";

    /// <summary>
    /// The most positions of cached keys and values that a decoding step's attention copies into shared memory before
    /// it waits for Q, K and V (the rest it reads through L2): <see cref="AutomaticAttentionStaging"/> for as many as
    /// fit beside the neighbouring launches, 0 for none. None by default until it is measured on a device; the
    /// environment variable TERN_CUDA_ATTENTION_STAGING (auto, or a number) switches it on.
    /// </summary>
    public int AttentionStagingLimit { get; set; } = ParseStagingLimit(Environment.GetEnvironmentVariable("TERN_CUDA_ATTENTION_STAGING"));

    /// <summary><see cref="AttentionStagingLimit"/>: as many positions as fit.</summary>
    public const int AutomaticAttentionStaging = int.MaxValue;

    internal static int ParseStagingLimit(string? value) =>
        value == "auto" ? AutomaticAttentionStaging : int.TryParse(value, out int limit) && limit > 0 ? limit : 0;

    /// <summary>Opens GPU <paramref name="deviceOrdinal"/>, or returns false with one sentence saying why CUDA cannot be used.</summary>
    public static bool TryCreate(int deviceOrdinal, [NotNullWhen(true)] out CudaAccelerator? accelerator, out string whyNot)
    {
        accelerator = null;
        if (!CudaAvailability.TryCreate(deviceOrdinal, out var context, out whyNot))
            return false;
        accelerator = new CudaAccelerator(context);
        return true;
    }

    public IModelOffload Offload(GgufFile file, ModelConfig config, ModelWeights weights, ModelPlacement placement, WorkerPool pool)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(placement);
        if (config.HeadDim > CudaInferenceKernels.AttentionMaxHeadDim || config.HeadDim % 2 != 0)
            throw new NotSupportedException($"{file.Path}: heads of {config.HeadDim} dimensions are beyond the CUDA attention kernel (even, at most {CudaInferenceKernels.AttentionMaxHeadDim})");
        return new CudaModelOffload(Context, Kernels, file, config, weights, placement, PersistentDecode, AttentionStagingLimit);
    }

    /// <summary>The inference kernels, compiled (or loaded from the disk cache) at first use.</summary>
    internal CudaInferenceKernels Kernels
    {
        get
        {
            lock (_gate)
            {
                _compiler ??= new KernelCompiler(Context);
                return _kernels ??= new CudaInferenceKernels(_compiler);
            }
        }
    }

    public void Dispose()
    {
        _kernels?.Dispose();
        Context.Dispose();
    }
}
