namespace Tern.Inference.Placement;

/// <summary>Where a layer or a tensor computes.</summary>
public enum ComputeDevice
{
    Cpu,
    Cuda,
}
