using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tern.Kernels;

/// <summary>
/// y[r] = Σᵢ W[r, i]·x[i] for consecutive rows of a 16-bit float matrix (F16 or BF16), widened to F32 in registers
/// and multiplied in the same loop: each weight is read once, from memory, and never stored as F32. Four rows go
/// through together so that each load of x serves four rows and four independent sums hide the FMA latency.
/// Widening is exact, so paths differ only in the order of the float sums.
/// </summary>
internal static class SixteenBitDot<TFormat>
    where TFormat : struct, ISixteenBitFloat
{
    private const int RowsAtATime = 4;

    /// <summary><paramref name="w"/> holds <c>y.Length</c> rows of <c>x.Length</c> weights each.</summary>
    public static void Rows(ReadOnlySpan<ushort> w, ReadOnlySpan<float> x, Span<float> y)
    {
        if (Avx512F.IsSupported)
            Rows512(w, x, y);
        else if (Avx2.IsSupported)
            Rows256(w, x, y);
        else if (Vector128.IsHardwareAccelerated)
            Rows128(w, x, y);
        else
            RowsScalar(w, x, y);
    }

    private static void Check(ReadOnlySpan<ushort> w, ReadOnlySpan<float> x, Span<float> y)
    {
        if (w.Length != (long)x.Length * y.Length)
            throw new ArgumentException($"{w.Length} weights are not {y.Length} rows of {x.Length}");
    }

    /// <summary>The reference: one weight at a time, summed in order.</summary>
    internal static void RowsScalar(ReadOnlySpan<ushort> w, ReadOnlySpan<float> x, Span<float> y)
    {
        Check(w, x, y);
        int n = x.Length;
        for (int r = 0; r < y.Length; r++)
        {
            var row = w.Slice(r * n, n);
            float sum = 0;
            for (int i = 0; i < n; i++)
                sum += TFormat.ToSingle(row[i]) * x[i];
            y[r] = sum;
        }
    }

    internal static void Rows512(ReadOnlySpan<ushort> w, ReadOnlySpan<float> x, Span<float> y)
    {
        Check(w, x, y);
        int n = x.Length;
        nuint whole = (nuint)(n - (n % 16));
        ref short w0 = ref Unsafe.As<ushort, short>(ref MemoryMarshal.GetReference(w));
        ref float xs = ref MemoryMarshal.GetReference(x);
        int r = 0;
        for (; r + RowsAtATime <= y.Length; r += RowsAtATime)
        {
            ref short a = ref Unsafe.Add(ref w0, (nint)r * n);
            ref short b = ref Unsafe.Add(ref a, n);
            ref short c = ref Unsafe.Add(ref b, n);
            ref short d = ref Unsafe.Add(ref c, n);
            Vector512<float> sa = default, sb = default, sc = default, sd = default;
            for (nuint i = 0; i < whole; i += 16)
            {
                var xv = Vector512.LoadUnsafe(ref xs, i);
                sa = Vector512.MultiplyAddEstimate(Widen512(ref a, i), xv, sa);
                sb = Vector512.MultiplyAddEstimate(Widen512(ref b, i), xv, sb);
                sc = Vector512.MultiplyAddEstimate(Widen512(ref c, i), xv, sc);
                sd = Vector512.MultiplyAddEstimate(Widen512(ref d, i), xv, sd);
            }

            y[r] = Vector512.Sum(sa) + Tail(ref a, ref xs, whole, n);
            y[r + 1] = Vector512.Sum(sb) + Tail(ref b, ref xs, whole, n);
            y[r + 2] = Vector512.Sum(sc) + Tail(ref c, ref xs, whole, n);
            y[r + 3] = Vector512.Sum(sd) + Tail(ref d, ref xs, whole, n);
        }

        for (; r < y.Length; r++)
        {
            ref short a = ref Unsafe.Add(ref w0, (nint)r * n);
            Vector512<float> sa = default;
            for (nuint i = 0; i < whole; i += 16)
                sa = Vector512.MultiplyAddEstimate(Widen512(ref a, i), Vector512.LoadUnsafe(ref xs, i), sa);
            y[r] = Vector512.Sum(sa) + Tail(ref a, ref xs, whole, n);
        }
    }

    internal static void Rows256(ReadOnlySpan<ushort> w, ReadOnlySpan<float> x, Span<float> y)
    {
        Check(w, x, y);
        int n = x.Length;
        nuint whole = (nuint)(n - (n % 8));
        ref short w0 = ref Unsafe.As<ushort, short>(ref MemoryMarshal.GetReference(w));
        ref float xs = ref MemoryMarshal.GetReference(x);
        int r = 0;
        for (; r + RowsAtATime <= y.Length; r += RowsAtATime)
        {
            ref short a = ref Unsafe.Add(ref w0, (nint)r * n);
            ref short b = ref Unsafe.Add(ref a, n);
            ref short c = ref Unsafe.Add(ref b, n);
            ref short d = ref Unsafe.Add(ref c, n);
            Vector256<float> sa = default, sb = default, sc = default, sd = default;
            for (nuint i = 0; i < whole; i += 8)
            {
                var xv = Vector256.LoadUnsafe(ref xs, i);
                sa = Vector256.MultiplyAddEstimate(Widen256(ref a, i), xv, sa);
                sb = Vector256.MultiplyAddEstimate(Widen256(ref b, i), xv, sb);
                sc = Vector256.MultiplyAddEstimate(Widen256(ref c, i), xv, sc);
                sd = Vector256.MultiplyAddEstimate(Widen256(ref d, i), xv, sd);
            }

            y[r] = Vector256.Sum(sa) + Tail(ref a, ref xs, whole, n);
            y[r + 1] = Vector256.Sum(sb) + Tail(ref b, ref xs, whole, n);
            y[r + 2] = Vector256.Sum(sc) + Tail(ref c, ref xs, whole, n);
            y[r + 3] = Vector256.Sum(sd) + Tail(ref d, ref xs, whole, n);
        }

        for (; r < y.Length; r++)
        {
            ref short a = ref Unsafe.Add(ref w0, (nint)r * n);
            Vector256<float> sa = default;
            for (nuint i = 0; i < whole; i += 8)
                sa = Vector256.MultiplyAddEstimate(Widen256(ref a, i), Vector256.LoadUnsafe(ref xs, i), sa);
            y[r] = Vector256.Sum(sa) + Tail(ref a, ref xs, whole, n);
        }
    }

    /// <summary>Portable (SSE4.1, NEON): eight weights per step, widened as two halves.</summary>
    internal static void Rows128(ReadOnlySpan<ushort> w, ReadOnlySpan<float> x, Span<float> y)
    {
        Check(w, x, y);
        int n = x.Length;
        nuint whole = (nuint)(n - (n % 8));
        ref short w0 = ref Unsafe.As<ushort, short>(ref MemoryMarshal.GetReference(w));
        ref float xs = ref MemoryMarshal.GetReference(x);
        for (int r = 0; r < y.Length; r++)
        {
            ref short a = ref Unsafe.Add(ref w0, (nint)r * n);
            Vector128<float> lower = default, upper = default;
            for (nuint i = 0; i < whole; i += 8)
            {
                var v = Vector128.LoadUnsafe(ref a, i);
                lower = Vector128.MultiplyAddEstimate(TFormat.ToSingle(Vector128.WidenLower(v)), Vector128.LoadUnsafe(ref xs, i), lower);
                upper = Vector128.MultiplyAddEstimate(TFormat.ToSingle(Vector128.WidenUpper(v)), Vector128.LoadUnsafe(ref xs, i + 4), upper);
            }

            y[r] = Vector128.Sum(lower + upper) + Tail(ref a, ref xs, whole, n);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Widen512(ref short row, nuint i) =>
        TFormat.ToSingle(Avx512F.ConvertToVector512Int32(Vector256.LoadUnsafe(ref row, i)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Widen256(ref short row, nuint i) =>
        TFormat.ToSingle(Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref row, i)));

    private static float Tail(ref short row, ref float x, nuint start, int n)
    {
        float sum = 0;
        for (nuint i = start; i < (nuint)n; i++)
            sum += TFormat.ToSingle((ushort)Unsafe.Add(ref row, i)) * Unsafe.Add(ref x, i);
        return sum;
    }
}
