using System.Runtime.InteropServices;
using Tern.Cuda;

namespace Tern.Training.Cuda;

/// <summary>
/// The struct of that name in attention_flash.cu, passed by value: where the flash backward kernels write dQ, dK, dV
/// as the fused QKV product's gradient operands (RoPE undone, times γ and over s), which they do when every query head
/// has its own key/value head; <see cref="DGamma"/> null makes them write float32 head-major instead.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct QkvGradientTarget(
    DevicePointer DGamma,
    DevicePointer DOverScale,
    DevicePointer CosineTable,
    DevicePointer SineTable,
    DevicePointer Gammas,
    DevicePointer Scales,
    int GammaIndexQ,
    int RopeMode,
    int Heads,
    int Context);
