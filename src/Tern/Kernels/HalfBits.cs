using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tern.Kernels;

/// <summary>
/// IEEE binary16 widened exactly: the exponent and mantissa shifted into F32's places read as a float 2^112 times too
/// small for normal numbers and subnormals alike, so one multiply by 2^112 fixes both (a half subnormal becomes an F32
/// normal). Exponent 31 (Inf/NaN) would come out as a finite value of at least 2^16, above every finite half (65504),
/// so such lanes get F32's all-ones exponent OR-ed in, which keeps Inf and the NaN payload (a signaling NaN stays
/// signaling, where System.Half quiets it; any arithmetic quiets it).
/// </summary>
internal readonly struct HalfBits : ISixteenBitFloat
{
    private const int MagnitudeMask = 0x0FFF_E000;
    private const int SignMask = unchecked((int)0x8000_0000);
    private const int InfinityExponent = 0x7F80_0000;
    private const float TwoToThe112 = 5.192296858534828e33f;
    private const float SmallestNonFinite = 65536f;

    public static float ToSingle(ushort bits) => (float)BitConverter.UInt16BitsToHalf(bits);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ToSingle(Vector512<int> h)
    {
        var shifted = h << 13;
        var magnitude = (shifted & Vector512.Create(MagnitudeMask)).AsSingle() * Vector512.Create(TwoToThe112);
        var nonFinite = Vector512.GreaterThanOrEqual(magnitude, Vector512.Create(SmallestNonFinite)).AsInt32() & Vector512.Create(InfinityExponent);
        return (magnitude.AsInt32() | nonFinite | (shifted & Vector512.Create(SignMask))).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ToSingle(Vector256<int> h)
    {
        var shifted = h << 13;
        var magnitude = (shifted & Vector256.Create(MagnitudeMask)).AsSingle() * Vector256.Create(TwoToThe112);
        var nonFinite = Vector256.GreaterThanOrEqual(magnitude, Vector256.Create(SmallestNonFinite)).AsInt32() & Vector256.Create(InfinityExponent);
        return (magnitude.AsInt32() | nonFinite | (shifted & Vector256.Create(SignMask))).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ToSingle(Vector128<int> h)
    {
        var shifted = h << 13;
        var magnitude = (shifted & Vector128.Create(MagnitudeMask)).AsSingle() * Vector128.Create(TwoToThe112);
        var nonFinite = Vector128.GreaterThanOrEqual(magnitude, Vector128.Create(SmallestNonFinite)).AsInt32() & Vector128.Create(InfinityExponent);
        return (magnitude.AsInt32() | nonFinite | (shifted & Vector128.Create(SignMask))).AsSingle();
    }
}
