using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tern.Kernels;

public static partial class TernaryCodesDot
{
    /// <summary>SSSE3: half a block (16 code bytes, 64 weights) at a time.</summary>
    internal static int Dot128(ReadOnlySpan<byte> codes, ReadOnlySpan<sbyte> q)
    {
        Check(codes, q);
        ref byte c = ref First(codes);
        ref sbyte a = ref First(q);
        var low = Vector128.Create((byte)0x03);
        var high = Vector128.Create((byte)0x0C);
        var one = Vector128.Create((short)1);
        var four = Vector128.Create((short)4);
        var acc = Vector128<int>.Zero;
        nuint blocks = (nuint)q.Length / BlockWeights, b = 0;
        while (b < blocks)
        {
            // Both halves of a block add to the same lanes, so half as many blocks fit.
            nuint end = Math.Min(blocks, b + (BlocksPerFlush / 2));
            Vector128<short> times4 = default, times1 = default;
            for (; b < end; b++)
            {
                for (nuint h = 0; h < 2; h++)
                {
                    // Byte j of half h holds elements 16h + j (+32, +64, +96).
                    var v = Vector128.LoadUnsafe(ref c, (b * BlockBytes) + (h * 16));
                    var shifted = Vector128.ShiftRightLogical(v.AsUInt16(), 4).AsByte();
                    nuint e = (b * BlockWeights) + (h * 16);
                    times4 += Ssse3.MultiplyAddAdjacent(shifted & high, Vector128.LoadUnsafe(ref a, e));
                    times1 += Ssse3.MultiplyAddAdjacent(shifted & low, Vector128.LoadUnsafe(ref a, e + 32));
                    times4 += Ssse3.MultiplyAddAdjacent(v & high, Vector128.LoadUnsafe(ref a, e + 64));
                    times1 += Ssse3.MultiplyAddAdjacent(v & low, Vector128.LoadUnsafe(ref a, e + 96));
                }
            }

            acc += Sse2.MultiplyAddAdjacent(times4, one) + Sse2.MultiplyAddAdjacent(times1, four);
        }

        return Vector128.Sum(acc) >> 2;
    }
}
