using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Tern.Formats;

/// <summary>
/// Little-endian element bytes to float32 and back, for the dtypes checkpoints store weights in. Conversions from
/// wider or integer types are exact where float32 can hold the value and rounded otherwise.
/// </summary>
public static class FloatConversion
{
    /// <summary>Converts <paramref name="src"/> (elements of <paramref name="dtype"/>) into <paramref name="dst"/>; integers become their value.</summary>
    public static void ToFloat32(SafetensorsDType dtype, ReadOnlySpan<byte> src, Span<float> dst)
    {
        int n = dst.Length;
        if (src.Length != checked(n * dtype.SizeOf()))
            throw new ArgumentException($"{src.Length} bytes of {dtype.ToHeaderName()} do not make {n} elements", nameof(src));
        // Files are little-endian; so is every platform .NET runs Tern on, which is what lets us reinterpret spans.
        switch (dtype)
        {
            case SafetensorsDType.F32:
                MemoryMarshal.Cast<byte, float>(src).CopyTo(dst);
                break;
            case SafetensorsDType.F16:
                TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(src), dst);
                break;
            case SafetensorsDType.BF16:
                BFloat16ToFloat32(MemoryMarshal.Cast<byte, ushort>(src), dst);
                break;
            case SafetensorsDType.F64:
                {
                    var s = MemoryMarshal.Cast<byte, double>(src);
                    for (int i = 0; i < n; i++)
                        dst[i] = (float)s[i];
                    break;
                }
            case SafetensorsDType.U8:
            case SafetensorsDType.BOOL:
                for (int i = 0; i < n; i++)
                    dst[i] = src[i];
                break;
            case SafetensorsDType.I8:
                for (int i = 0; i < n; i++)
                    dst[i] = (sbyte)src[i];
                break;
            case SafetensorsDType.I16:
                {
                    var s = MemoryMarshal.Cast<byte, short>(src);
                    for (int i = 0; i < n; i++)
                        dst[i] = s[i];
                    break;
                }
            case SafetensorsDType.U16:
                {
                    var s = MemoryMarshal.Cast<byte, ushort>(src);
                    for (int i = 0; i < n; i++)
                        dst[i] = s[i];
                    break;
                }
            case SafetensorsDType.I32:
                {
                    var s = MemoryMarshal.Cast<byte, int>(src);
                    for (int i = 0; i < n; i++)
                        dst[i] = s[i];
                    break;
                }
            case SafetensorsDType.U32:
                {
                    var s = MemoryMarshal.Cast<byte, uint>(src);
                    for (int i = 0; i < n; i++)
                        dst[i] = s[i];
                    break;
                }
            case SafetensorsDType.I64:
                {
                    var s = MemoryMarshal.Cast<byte, long>(src);
                    for (int i = 0; i < n; i++)
                        dst[i] = s[i];
                    break;
                }
            case SafetensorsDType.U64:
                {
                    var s = MemoryMarshal.Cast<byte, ulong>(src);
                    for (int i = 0; i < n; i++)
                        dst[i] = s[i];
                    break;
                }
            case SafetensorsDType.F8_E5M2:
                // E5M2 is the top byte of an IEEE half, so widening through Half is exact.
                for (int i = 0; i < n; i++)
                    dst[i] = (float)BitConverter.UInt16BitsToHalf((ushort)(src[i] << 8));
                break;
            case SafetensorsDType.F8_E4M3:
                for (int i = 0; i < n; i++)
                    dst[i] = Float8E4M3ToFloat32(src[i]);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown safetensors dtype");
        }
    }

    public static void BFloat16ToFloat32(ReadOnlySpan<ushort> src, Span<float> dst)
    {
        if (dst.Length < src.Length)
            throw new ArgumentException("destination too short", nameof(dst));
        var bits = MemoryMarshal.Cast<float, uint>(dst);
        for (int i = 0; i < src.Length; i++)
            bits[i] = (uint)src[i] << 16;
    }

    /// <summary>Round to nearest, ties to even, as PyTorch's float→bfloat16; NaN stays a (quiet) NaN.</summary>
    public static ushort Float32ToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
            return (ushort)((bits >> 16) | 0x0040);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    public static float BFloat16ToFloat32(ushort value) => BitConverter.UInt32BitsToSingle((uint)value << 16);

    /// <summary>
    /// OCP FP8 E4M3 ("fn": finite, bias 7, no infinities; S.1111.111 is NaN), the variant PyTorch's float8_e4m3fn
    /// and safetensors' F8_E4M3 mean.
    /// </summary>
    public static float Float8E4M3ToFloat32(byte b)
    {
        int sign = b >> 7;
        int exp = (b >> 3) & 0xF;
        int mant = b & 0x7;
        float v;
        if (exp == 0xF && mant == 0x7)
            v = float.NaN;
        else if (exp == 0)
            v = mant / 8f * (1f / 64f); // subnormal: 2^(1-7) · m/8
        else
            v = (1f + mant / 8f) * MathF.Pow(2, exp - 7);
        return sign != 0 ? -v : v;
    }

    /// <summary>Writes <paramref name="values"/> as little-endian elements of <paramref name="dtype"/> (F32, F16 or BF16).</summary>
    public static void FromFloat32(ReadOnlySpan<float> values, SafetensorsDType dtype, Span<byte> dst)
    {
        switch (dtype)
        {
            case SafetensorsDType.F32:
                MemoryMarshal.AsBytes(values).CopyTo(dst);
                break;
            case SafetensorsDType.F16:
                TensorPrimitives.ConvertToHalf(values, MemoryMarshal.Cast<byte, Half>(dst));
                break;
            case SafetensorsDType.BF16:
                for (int i = 0; i < values.Length; i++)
                    BinaryPrimitives.WriteUInt16LittleEndian(dst[(2 * i)..], Float32ToBFloat16(values[i]));
                break;
            default:
                throw new ArgumentException($"float32 values can be stored as F32, F16 or BF16, not {dtype.ToHeaderName()}", nameof(dtype));
        }
    }
}
