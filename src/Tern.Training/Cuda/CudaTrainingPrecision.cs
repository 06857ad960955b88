namespace Tern.Training.Cuda;

/// <summary>What the CUDA trainer's matrix products read. Everything else (activations, gradients, parameters,
/// AdamW moments, every sum outside the products) is float32 in both.</summary>
public enum CudaTrainingPrecision
{
    /// <summary>bfloat16 operands on the tensor cores with float32 accumulation: the fast mode. With quantization on,
    /// the forward BitLinear products lose nothing (integers |q| ≤ 128 and ternary weights are exact in bfloat16);
    /// attention, the head and the gradient products round their operands to 8 bits of mantissa.</summary>
    BFloat16,

    /// <summary>float32 operands and arithmetic throughout: slower, and within rounding of the CPU trainer, which is
    /// what the agreement checks use it for.</summary>
    Float32,
}
