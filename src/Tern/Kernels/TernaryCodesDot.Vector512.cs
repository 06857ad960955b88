using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tern.Kernels;

public static partial class TernaryCodesDot
{
    /// <summary>Rows per tile: their codes stay in cache while every group of four tokens passes over them.</summary>
    private const int RowTile = 32;

    /// <summary>
    /// AVX-512BW: a block's 32 code bytes are loaded into both halves of a register, and the halves are masked
    /// differently (0b1100 below, 0b0011 above), so one register multiplies 64 activations in their natural order:
    /// the shifted codes give groups 0 (as 4c) and 1 (as c), the codes themselves groups 2 (4c) and 3 (c).
    /// </summary>
    internal static unsafe void Multiply512(ReadOnlySpan<byte> codes, int columns, ReadOnlySpan<sbyte> q, int tokens, Span<int> sums, int sumStride)
    {
        int rowBytes = columns / 4, rows = codes.Length / rowBytes;
        nuint blocks = (nuint)(columns / BlockWeights);
        fixed (byte* c = codes)
        {
            MultiplyRows512(c, rowBytes, rows, columns, blocks, q, tokens, sums, sumStride);
        }
    }

    private static unsafe void MultiplyRows512(byte* c, int rowBytes, int rows, int columns, nuint blocks, ReadOnlySpan<sbyte> q, int tokens, Span<int> sums, int sumStride)
    {
        ref sbyte a = ref First(q);
        for (int r0 = 0; r0 < rows; r0 += RowTile)
        {
            int r1 = Math.Min(rows, r0 + RowTile), t = 0;
            for (; t + 4 <= tokens; t += 4)
            {
                ref sbyte a0 = ref Unsafe.Add(ref a, t * columns);
                for (int r = r0; r < r1; r++)
                {
                    var (s0, s1, s2, s3) = Row512x4(c + ((nint)r * rowBytes), ref a0, (nuint)columns, blocks);
                    sums[(t * sumStride) + r] = s0;
                    sums[((t + 1) * sumStride) + r] = s1;
                    sums[((t + 2) * sumStride) + r] = s2;
                    sums[((t + 3) * sumStride) + r] = s3;
                }
            }

            for (; t < tokens; t++)
            {
                ref sbyte at = ref Unsafe.Add(ref a, t * columns);
                for (int r = r0; r < r1; r++)
                    sums[(t * sumStride) + r] = Row512(c + ((nint)r * rowBytes), ref at, blocks);
            }
        }
    }

    internal static unsafe int Dot512(ReadOnlySpan<byte> codes, ReadOnlySpan<sbyte> q)
    {
        Check(codes, q);
        fixed (byte* c = codes)
        {
            return Row512(c, ref First(q), (nuint)(q.Length / BlockWeights));
        }
    }

    private static readonly Vector512<byte> Masks = Vector512.Create(Vector256.Create((byte)0x0C), Vector256.Create((byte)0x03));

    /// <summary>Widening weights: the lower half's sums are of 4c already, the upper half's of c.</summary>
    private static readonly Vector512<short> Widening = Vector512.Create(Vector256.Create((short)1), Vector256.Create((short)4));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe int Row512(byte* c, ref sbyte a, nuint blocks)
    {
        var masks = Masks;
        byte* next = c + BlockBytes;
        var acc = Vector512<int>.Zero;
        nuint b = 0;
        while (b < blocks)
        {
            nuint end = Math.Min(blocks, b + BlocksPerFlush);
            var s = Vector512<short>.Zero;
            // Two blocks per iteration: half the loop overhead, two independent chains of sums. The second block is
            // addressed from its own base: .NET 10's JIT encodes a displaced VBROADCASTI64X4 with the displacement
            // scaled as for 16 bytes, so [p + 32] would load [p + 64] (caught by the tests; see docs/performance.md).
            var s2 = Vector512<short>.Zero;
            for (; b + 2 <= end; b += 2)
            {
                var v = Avx512F.BroadcastVector256ToVector512((ulong*)(c + (b * BlockBytes))).AsByte();
                var w = Avx512F.BroadcastVector256ToVector512((ulong*)(next + (b * BlockBytes))).AsByte();
                nuint e = b * BlockWeights;
                s += Avx512BW.MultiplyAddAdjacent(Vector512.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & masks, Vector512.LoadUnsafe(ref a, e))
                    + Avx512BW.MultiplyAddAdjacent(v & masks, Vector512.LoadUnsafe(ref a, e + 64));
                s2 += Avx512BW.MultiplyAddAdjacent(Vector512.ShiftRightLogical(w.AsUInt16(), 4).AsByte() & masks, Vector512.LoadUnsafe(ref a, e + 128))
                    + Avx512BW.MultiplyAddAdjacent(w & masks, Vector512.LoadUnsafe(ref a, e + 192));
            }

            s += s2;
            for (; b < end; b++)
            {
                var v = Avx512F.BroadcastVector256ToVector512((ulong*)(c + (b * BlockBytes))).AsByte();
                var x = Vector512.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & masks;
                var y = v & masks;
                nuint e = b * BlockWeights;
                s += Avx512BW.MultiplyAddAdjacent(x, Vector512.LoadUnsafe(ref a, e)) + Avx512BW.MultiplyAddAdjacent(y, Vector512.LoadUnsafe(ref a, e + 64));
            }

            acc += Avx512BW.MultiplyAddAdjacent(s, Widening);
        }

        return Vector512.Sum(acc) >> 2;
    }

    /// <summary>One row for four tokens whose activations lie <paramref name="stride"/> apart: the codes unpack once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe (int, int, int, int) Row512x4(byte* c, ref sbyte a, nuint stride, nuint blocks)
    {
        var masks = Masks;
        Vector512<int> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        nuint b = 0;
        while (b < blocks)
        {
            nuint end = Math.Min(blocks, b + BlocksPerFlush);
            Vector512<short> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; b < end; b++)
            {
                var v = Avx512F.BroadcastVector256ToVector512((ulong*)(c + (b * BlockBytes))).AsByte();
                var x = Vector512.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & masks;
                var y = v & masks;
                nuint e = b * BlockWeights;
                s0 += Avx512BW.MultiplyAddAdjacent(x, Vector512.LoadUnsafe(ref a, e)) + Avx512BW.MultiplyAddAdjacent(y, Vector512.LoadUnsafe(ref a, e + 64));
                e += stride;
                s1 += Avx512BW.MultiplyAddAdjacent(x, Vector512.LoadUnsafe(ref a, e)) + Avx512BW.MultiplyAddAdjacent(y, Vector512.LoadUnsafe(ref a, e + 64));
                e += stride;
                s2 += Avx512BW.MultiplyAddAdjacent(x, Vector512.LoadUnsafe(ref a, e)) + Avx512BW.MultiplyAddAdjacent(y, Vector512.LoadUnsafe(ref a, e + 64));
                e += stride;
                s3 += Avx512BW.MultiplyAddAdjacent(x, Vector512.LoadUnsafe(ref a, e)) + Avx512BW.MultiplyAddAdjacent(y, Vector512.LoadUnsafe(ref a, e + 64));
            }

            var widening = Widening;
            acc0 += Avx512BW.MultiplyAddAdjacent(s0, widening);
            acc1 += Avx512BW.MultiplyAddAdjacent(s1, widening);
            acc2 += Avx512BW.MultiplyAddAdjacent(s2, widening);
            acc3 += Avx512BW.MultiplyAddAdjacent(s3, widening);
        }

        return (Vector512.Sum(acc0) >> 2, Vector512.Sum(acc1) >> 2, Vector512.Sum(acc2) >> 2, Vector512.Sum(acc3) >> 2);
    }
}
