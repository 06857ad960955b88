using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tern.Kernels;

/// <summary>
/// Σ c·q over a row of 2-bit ternary codes c = w̃ + 1 ∈ {0, 1, 2} in bitnet.cpp's I2_S block layout (128 weights in
/// 32 bytes; byte j holds elements j, j+32, j+64, j+96 in bits 7-6, 5-4, 3-2, 1-0) and int8 activations q. The
/// caller subtracts Σq to get W̃·q. Unsigned codes times signed activations is exactly what PMADDUBSW multiplies;
/// the codes unpack with one shift and one mask per 32 weights. Every path returns the same integer.
/// </summary>
public static class TernaryCodesDot
{
    public const int BlockWeights = 128;
    public const int BlockBytes = 32;

    public static int Dot(ReadOnlySpan<byte> codes, ReadOnlySpan<sbyte> q)
    {
        Check(codes, q);
        if (Avx512BW.IsSupported)
            return Dot512(codes, q);
        if (Avx2.IsSupported)
            return Dot256(codes, q);
        if (Ssse3.IsSupported)
            return Dot128(codes, q);
        return DotScalar(codes, q);
    }

    internal static void Check(ReadOnlySpan<byte> codes, ReadOnlySpan<sbyte> q)
    {
        if (q.Length % BlockWeights != 0 || codes.Length * 4 != q.Length)
            throw new ArgumentException($"{codes.Length} code bytes and {q.Length} activations: a row is whole blocks of {BlockWeights} weights in {BlockBytes} bytes");
    }

    /// <summary>The reference: one weight at a time, straight from the layout's definition.</summary>
    internal static int DotScalar(ReadOnlySpan<byte> codes, ReadOnlySpan<sbyte> q)
    {
        int sum = 0;
        for (int b = 0; b < q.Length / BlockWeights; b++)
        {
            var block = codes.Slice(b * BlockBytes, BlockBytes);
            var a = q.Slice(b * BlockWeights, BlockWeights);
            for (int j = 0; j < BlockBytes; j++)
            {
                int packed = block[j];
                sum += ((packed >> 6) & 3) * a[j];
                sum += ((packed >> 4) & 3) * a[j + 32];
                sum += ((packed >> 2) & 3) * a[j + 64];
                sum += (packed & 3) * a[j + 96];
            }
        }

        return sum;
    }

    internal static int Dot128(ReadOnlySpan<byte> codes, ReadOnlySpan<sbyte> q)
    {
        ref byte c = ref MemoryMarshal.GetReference(codes);
        ref sbyte a = ref MemoryMarshal.GetReference(q);
        var mask = Vector128.Create((byte)3);
        var ones = Vector128.Create((short)1);
        var acc = Vector128<int>.Zero;
        nuint blocks = (nuint)q.Length / BlockWeights;
        for (nuint b = 0; b < blocks; b++)
        {
            // Two halves of 16 bytes: byte j of half h holds elements 16h + j (+32, +64, +96).
            for (nuint h = 0; h < 2; h++)
            {
                var v = Vector128.LoadUnsafe(ref c, (b * BlockBytes) + (h * 16));
                nuint e = (b * BlockWeights) + (h * 16);
                var s = Ssse3.MultiplyAddAdjacent(Vector128.ShiftRightLogical(v.AsUInt16(), 6).AsByte() & mask, Vector128.LoadUnsafe(ref a, e));
                s += Ssse3.MultiplyAddAdjacent(Vector128.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & mask, Vector128.LoadUnsafe(ref a, e + 32));
                s += Ssse3.MultiplyAddAdjacent(Vector128.ShiftRightLogical(v.AsUInt16(), 2).AsByte() & mask, Vector128.LoadUnsafe(ref a, e + 64));
                s += Ssse3.MultiplyAddAdjacent(v & mask, Vector128.LoadUnsafe(ref a, e + 96));
                // Four int16 sums of at most 4·2·127 each cannot overflow; widen before they accumulate further.
                acc += Sse2.MultiplyAddAdjacent(s, ones);
            }
        }

        return Vector128.Sum(acc);
    }

    internal static int Dot256(ReadOnlySpan<byte> codes, ReadOnlySpan<sbyte> q)
    {
        ref byte c = ref MemoryMarshal.GetReference(codes);
        ref sbyte a = ref MemoryMarshal.GetReference(q);
        var acc = Vector256<int>.Zero;
        nuint blocks = (nuint)q.Length / BlockWeights;
        for (nuint b = 0; b < blocks; b++)
            acc += Block256(Vector256.LoadUnsafe(ref c, b * BlockBytes), ref a, b * BlockWeights);
        return Vector256.Sum(acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Block256(Vector256<byte> v, ref sbyte a, nuint e)
    {
        var mask = Vector256.Create((byte)3);
        var s = Avx2.MultiplyAddAdjacent(Vector256.ShiftRightLogical(v.AsUInt16(), 6).AsByte() & mask, Vector256.LoadUnsafe(ref a, e));
        s += Avx2.MultiplyAddAdjacent(Vector256.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & mask, Vector256.LoadUnsafe(ref a, e + 32));
        s += Avx2.MultiplyAddAdjacent(Vector256.ShiftRightLogical(v.AsUInt16(), 2).AsByte() & mask, Vector256.LoadUnsafe(ref a, e + 64));
        s += Avx2.MultiplyAddAdjacent(v & mask, Vector256.LoadUnsafe(ref a, e + 96));
        return Avx2.MultiplyAddAdjacent(s, Vector256.Create((short)1));
    }

    internal static int Dot512(ReadOnlySpan<byte> codes, ReadOnlySpan<sbyte> q)
    {
        ref byte c = ref MemoryMarshal.GetReference(codes);
        ref sbyte a = ref MemoryMarshal.GetReference(q);
        var mask = Vector512.Create((byte)3);
        var ones = Vector512.Create((short)1);
        var acc = Vector512<int>.Zero;
        nuint blocks = (nuint)q.Length / BlockWeights, b = 0;
        // Two blocks per 64-byte load: the lower 256 bits are block b, the upper block b + 1; the activations are
        // gathered to match (elements g·32 … g·32+31 of each block for code group g).
        for (; b + 2 <= blocks; b += 2)
        {
            var v = Vector512.LoadUnsafe(ref c, b * BlockBytes);
            nuint e0 = b * BlockWeights, e1 = e0 + BlockWeights;
            var s = Avx512BW.MultiplyAddAdjacent(Vector512.ShiftRightLogical(v.AsUInt16(), 6).AsByte() & mask, Pair(ref a, e0, e1));
            s += Avx512BW.MultiplyAddAdjacent(Vector512.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & mask, Pair(ref a, e0 + 32, e1 + 32));
            s += Avx512BW.MultiplyAddAdjacent(Vector512.ShiftRightLogical(v.AsUInt16(), 2).AsByte() & mask, Pair(ref a, e0 + 64, e1 + 64));
            s += Avx512BW.MultiplyAddAdjacent(v & mask, Pair(ref a, e0 + 96, e1 + 96));
            acc += Avx512BW.MultiplyAddAdjacent(s, ones);
        }

        int sum = Vector512.Sum(acc);
        if (b < blocks)
            sum += Vector256.Sum(Block256(Vector256.LoadUnsafe(ref c, b * BlockBytes), ref a, b * BlockWeights));
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<sbyte> Pair(ref sbyte a, nuint lower, nuint upper) =>
        Vector512.Create(Vector256.LoadUnsafe(ref a, lower), Vector256.LoadUnsafe(ref a, upper));
}
