using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Tern.Kernels;

/// <summary>
/// Dot products in the order a GPU warp computes them (the attention scores), so that the CPU engine and the CUDA
/// backend round alike: lane j of 32 adds elements j, j + 32, j + 64, … in turn (starting from 0), then the lanes are
/// combined by the xor butterfly of a warp reduction (offsets 16, 8, 4, 2, 1; lane j adds lane j ^ offset). The CUDA
/// kernels' warp_order_dot gives the same bits; longer sums use <see cref="BlockOrderSum"/>. This matters because BitNet quantizes activations to int8
/// per token: a norm or an attention output that differs in its last bit can round one activation the other way,
/// and that difference grows through the layers (on a 3M model, by 1e-2 of the logits within a hundred tokens).
/// Products and sums are rounded separately (no fused multiply-add), as the kernels compiled with --fmad=false do.
/// </summary>
public static class WarpOrderSum
{
    public const int Lanes = 32;

    /// <summary>Σ a_i·b_i.</summary>
    [SkipLocalsInit]
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length)
            throw new ArgumentException($"vectors of {a.Length} and {b.Length} elements", nameof(b));
        Span<float> lanes = stackalloc float[Lanes];
        int i = 0, n = a.Length;
        if (Vector256.IsHardwareAccelerated && n >= Lanes)
        {
            ref float pa = ref MemoryMarshal.GetReference(a);
            ref float pb = ref MemoryMarshal.GetReference(b);
            Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; i <= n - Lanes; i += Lanes)
            {
                s0 += Vector256.LoadUnsafe(ref pa, (nuint)i) * Vector256.LoadUnsafe(ref pb, (nuint)i);
                s1 += Vector256.LoadUnsafe(ref pa, (nuint)i + 8) * Vector256.LoadUnsafe(ref pb, (nuint)i + 8);
                s2 += Vector256.LoadUnsafe(ref pa, (nuint)i + 16) * Vector256.LoadUnsafe(ref pb, (nuint)i + 16);
                s3 += Vector256.LoadUnsafe(ref pa, (nuint)i + 24) * Vector256.LoadUnsafe(ref pb, (nuint)i + 24);
            }

            ref float pl = ref MemoryMarshal.GetReference(lanes);
            s0.StoreUnsafe(ref pl);
            s1.StoreUnsafe(ref pl, 8);
            s2.StoreUnsafe(ref pl, 16);
            s3.StoreUnsafe(ref pl, 24);
        }
        else
        {
            lanes.Clear();
        }

        for (; i < n; i++)
            lanes[i & (Lanes - 1)] += a[i] * b[i];
        return Butterfly(lanes);
    }

    /// <summary>The warp reduction of 32 lane partials: what every lane holds at the end (lane j and j ^ offset add the same two values).</summary>
    public static float Butterfly(Span<float> lanes)
    {
        for (int offset = Lanes / 2; offset > 0; offset >>= 1)
        {
            for (int j = 0; j < offset; j++)
                lanes[j] += lanes[j + offset];
        }

        return lanes[0];
    }
}
