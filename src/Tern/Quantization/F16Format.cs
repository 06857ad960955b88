using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Tern.Quantization;

/// <summary>
/// GGML F16: IEEE binary16, little-endian. ggml converts with round to nearest even (F16C's _cvtss_sh with mode 0,
/// or its bit-exact software fallback), which is also how System.Half converts.
/// Definition: https://github.com/ggml-org/llama.cpp/blob/master/ggml/src/ggml-impl.h (ggml_compute_fp32_to_fp16).
/// </summary>
public static class F16Format
{
    public const int BytesPerElement = 2;

    public static long ByteSize(long elementCount) => checked(elementCount * BytesPerElement);

    public static void Encode(ReadOnlySpan<float> src, Span<byte> dst)
    {
        FormatGuard.RequireBytes("F16", src.Length, ByteSize(src.Length), dst.Length, nameof(dst));
        if (BitConverter.IsLittleEndian)
        {
            // Half has no alignment requirement on the platforms .NET runs on, so the byte buffer can be viewed in place.
            TensorPrimitives.ConvertToHalf(src, MemoryMarshal.Cast<byte, Half>(dst));
            return;
        }

        for (int i = 0; i < src.Length; i++)
            BinaryPrimitives.WriteHalfLittleEndian(dst[(i * 2)..], (Half)src[i]);
    }

    public static void Decode(ReadOnlySpan<byte> src, Span<float> dst)
    {
        FormatGuard.RequireBytes("F16", dst.Length, ByteSize(dst.Length), src.Length, nameof(src));
        if (BitConverter.IsLittleEndian)
        {
            TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(src), dst);
            return;
        }

        for (int i = 0; i < dst.Length; i++)
            dst[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(src[(i * 2)..]);
    }

    /// <summary>
    /// Whether a float survives a trip through fp16 unchanged. TQ1_0/TQ2_0 keep their block scale as fp16,
    /// so an I2_S float32 scale moves into them losslessly only when this holds.
    /// </summary>
    public static bool IsExactInHalf(float value) =>
        float.IsNaN(value) ? false : (float)(Half)value == value;
}
