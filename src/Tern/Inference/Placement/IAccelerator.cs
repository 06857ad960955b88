using Tern.Gguf;
using Tern.Models;
using Tern.Runtime;

namespace Tern.Inference.Placement;

/// <summary>
/// A device that can take part of a model (Tern.Cuda's CudaAccelerator): given the weights loaded on the host and a
/// <see cref="ModelPlacement"/>, it copies what the placement puts on the device there. The core library knows the
/// device only through this interface, so it keeps no native dependency.
/// </summary>
public interface IAccelerator
{
    /// <summary>The device, as a line for the user ("CUDA: NVIDIA H100 80GB HBM3 (sm_90)").</summary>
    string Description { get; }

    /// <summary>Moves the placed tensors to the device. Throws with a message naming the tensor or the limit on failure.</summary>
    IModelOffload Offload(GgufFile file, ModelConfig config, ModelWeights weights, ModelPlacement placement, WorkerPool pool);
}
