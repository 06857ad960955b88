using Tern.Gguf;
using Tern.Inference.Placement;

namespace Tern.Inference;

/// <summary>How a model is loaded.</summary>
public sealed record TernModelOptions
{
    /// <summary>Threads that compute the matrix products (the calling thread is one of them).</summary>
    public int Threads { get; init; } = Runtime.PhysicalCores.Value;

    /// <summary>
    /// The type the output head is requantized to at load (F32, F16, BF16, Q8_0 or Q6_K); null keeps the stored type.
    /// The head is the largest matrix a token reads (2B-4T's tied F16 head is 656 MB, as much as all ternary layers),
    /// so Q8_0 (349 MB) or Q6_K (270 MB) trades a small loss for decode speed.
    /// </summary>
    public GgmlType? HeadType { get; init; }

    /// <summary>Which blocks and tensors compute on the GPU (default: none).</summary>
    public ModelPlacement Placement { get; init; } = ModelPlacement.CpuOnly;

    /// <summary>The device the placement's GPU part goes to (Tern.Cuda's CudaAccelerator); null: the CPU computes everything.</summary>
    public IAccelerator? Accelerator { get; init; }
}
