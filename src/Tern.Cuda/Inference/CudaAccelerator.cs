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
    private CudaAccelerator(CudaContext context)
    {
        Context = context;
    }

    public CudaContext Context { get; }

    public string Description => $"CUDA: {Context.Name} ({Context.Architecture})";

    /// <summary>Opens GPU <paramref name="deviceOrdinal"/>, or returns false with one sentence saying why CUDA cannot be used.</summary>
    public static bool TryCreate(int deviceOrdinal, [NotNullWhen(true)] out CudaAccelerator? accelerator, out string whyNot)
    {
        accelerator = null;
        if (!CudaAvailability.TryCreate(deviceOrdinal, out var context, out whyNot))
            return false;
        accelerator = new CudaAccelerator(context);
        return true;
    }

    public IModelOffload Offload(GgufFile file, ModelConfig config, ModelWeights weights, ModelPlacement placement, WorkerPool pool) =>
        throw new NotImplementedException("the CUDA inference backend is being written");

    public void Dispose() => Context.Dispose();
}
