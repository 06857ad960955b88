namespace Tern.Cuda;

/// <summary>The element types and arithmetic of a <see cref="CublasGemm"/> product. C is float32 in all three.</summary>
public enum GemmPrecision
{
    /// <summary>float32 A and B, full float32 arithmetic (relative error near 1e-7 per term).</summary>
    Float32,

    /// <summary>float32 A and B rounded to TF32 (10-bit mantissa) on the tensor cores, float32 accumulation: several times faster, relative error near 1e-3.</summary>
    Float32ViaTf32,

    /// <summary>bfloat16 A and B (stored as ushort, Tern's BF16), float32 accumulation and output.</summary>
    BFloat16,
}
