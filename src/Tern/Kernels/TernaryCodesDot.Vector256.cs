using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tern.Kernels;

public static partial class TernaryCodesDot
{
    /// <summary>AVX2: one block (32 code bytes) at a time.</summary>
    internal static int Dot256(ReadOnlySpan<byte> codes, ReadOnlySpan<sbyte> q)
    {
        Check(codes, q);
        ref byte c = ref First(codes);
        ref sbyte a = ref First(q);
        var low = Vector256.Create((byte)0x03);
        var high = Vector256.Create((byte)0x0C);
        var one = Vector256.Create((short)1);
        var four = Vector256.Create((short)4);
        var acc = Vector256<int>.Zero;
        nuint blocks = (nuint)q.Length / BlockWeights, b = 0;
        while (b < blocks)
        {
            nuint end = Math.Min(blocks, b + BlocksPerFlush);
            Vector256<short> times4 = default, times1 = default;
            for (; b < end; b++)
            {
                var v = Vector256.LoadUnsafe(ref c, b * BlockBytes);
                var shifted = Vector256.ShiftRightLogical(v.AsUInt16(), 4).AsByte();
                nuint e = b * BlockWeights;
                times4 += Avx2.MultiplyAddAdjacent(shifted & high, Vector256.LoadUnsafe(ref a, e));
                times1 += Avx2.MultiplyAddAdjacent(shifted & low, Vector256.LoadUnsafe(ref a, e + 32));
                times4 += Avx2.MultiplyAddAdjacent(v & high, Vector256.LoadUnsafe(ref a, e + 64));
                times1 += Avx2.MultiplyAddAdjacent(v & low, Vector256.LoadUnsafe(ref a, e + 96));
            }

            acc += Avx2.MultiplyAddAdjacent(times4, one) + Avx2.MultiplyAddAdjacent(times1, four);
        }

        return Vector256.Sum(acc) >> 2;
    }
}
