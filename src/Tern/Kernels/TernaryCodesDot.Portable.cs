using System.Runtime.Intrinsics;

namespace Tern.Kernels;

public static partial class TernaryCodesDot
{
    /// <summary>
    /// Vector128 with only cross-platform operations (Arm AdvSimd, or any 128-bit SIMD without SSSE3's byte
    /// multiply): codes and activations are widened to int16 and multiplied there. Half a block (16 code bytes) at a
    /// time; each int16 lane gains at most 4 · 2 · 128 · 2 = 2048 per half-block, so eight fit before widening.
    /// </summary>
    internal static int DotPortable(ReadOnlySpan<byte> codes, ReadOnlySpan<sbyte> q)
    {
        Check(codes, q);
        ref byte c = ref First(codes);
        ref sbyte a = ref First(q);
        var three = Vector128.Create((byte)3);
        var acc = Vector128<int>.Zero;
        nuint halves = (nuint)q.Length / 64, h = 0;
        while (h < halves)
        {
            nuint end = Math.Min(halves, h + 8);
            var s = Vector128<short>.Zero;
            for (; h < end; h++)
            {
                // Half h of block h/2: byte j holds elements 16·(h%2) + j (+32, +64, +96) of the block.
                var v = Vector128.LoadUnsafe(ref c, h * 16);
                nuint e = ((h / 2) * BlockWeights) + ((h % 2) * 16);
                s += Group(Vector128.ShiftRightLogical(v, 6) & three, Vector128.LoadUnsafe(ref a, e));
                s += Group(Vector128.ShiftRightLogical(v, 4) & three, Vector128.LoadUnsafe(ref a, e + 32));
                s += Group(Vector128.ShiftRightLogical(v, 2) & three, Vector128.LoadUnsafe(ref a, e + 64));
                s += Group(v & three, Vector128.LoadUnsafe(ref a, e + 96));
            }

            var (low, high) = Vector128.Widen(s);
            acc += low + high;
        }

        return Vector128.Sum(acc);
    }

    private static Vector128<short> Group(Vector128<byte> codes, Vector128<sbyte> activations)
    {
        var (c0, c1) = Vector128.Widen(codes);
        var (a0, a1) = Vector128.Widen(activations);
        return (c0.AsInt16() * a0) + (c1.AsInt16() * a1);
    }
}
