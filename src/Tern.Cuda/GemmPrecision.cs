namespace Tern.Cuda;

/// <summary>The element types and arithmetic of a <see cref="CublasGemm"/> product. C is float32, except for <see cref="Int8"/>.</summary>
public enum GemmPrecision
{
    /// <summary>float32 A and B, full float32 arithmetic (relative error near 1e-7 per term).</summary>
    Float32,

    /// <summary>float32 A and B rounded to TF32 (10-bit mantissa) on the tensor cores, float32 accumulation: several times faster, relative error near 1e-3.</summary>
    Float32ViaTf32,

    /// <summary>bfloat16 A and B (stored as ushort, Tern's BF16), float32 accumulation and output.</summary>
    BFloat16,

    /// <summary>
    /// int8 A and B (sbyte), int32 accumulation and an int32 C: exact integer products on the tensor cores (ternary
    /// weights times int8 activations). cuBLASLt wants B transposed (stored [N, K]) and K a multiple of 4.
    /// </summary>
    Int8,
}
