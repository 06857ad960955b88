using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tern.Kernels;

/// <summary>BF16 is the upper half of an F32: widening is one shift (the sign extension falls off the top).</summary>
internal readonly struct BFloat16Bits : ISixteenBitFloat
{
    public static float ToSingle(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ToSingle(Vector512<int> b) => (b << 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ToSingle(Vector256<int> b) => (b << 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ToSingle(Vector128<int> b) => (b << 16).AsSingle();
}
