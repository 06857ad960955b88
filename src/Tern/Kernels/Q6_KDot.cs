using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tern.Kernels;

/// <summary>
/// Rows of Q6_K weights (ggml's 210-byte super-blocks of 256: 6-bit levels in ql/qh, sixteen int8 sub-block scales,
/// fp16 d) times activations quantized to Q8_K once per product, as llama.cpp's ggml_vec_dot_q6_K_q8_K:
/// y[r] = Σ_b d_w·d_x·Σ_s scale_s·Σⱼ (level − 32)·q, every super-block's sum an exact integer.
/// The stored levels are already unsigned (0…63), which is PMADDUBSW's unsigned operand; the −32 offset is taken off
/// afterwards with Q8_K's sums of each 16 activations (Σ scale_s·32·Σq). A pair of products stays within
/// 2·63·127 = 16,002, far from PMADDUBSW's saturation, and a super-block's total within int32.
/// Layout of each half (128 weights) of a super-block: ql[l] holds weights l (low nibble) and l+64 (high), ql[l+32]
/// holds l+32 and l+96, qh[l] holds the two high bits of l, l+32, l+64, l+96 at bits 0-1, 2-3, 4-5, 6-7.
/// </summary>
internal static class Q6_KDot
{
    public const int BlockWeights = 256;
    public const int BlockBytes = 210;
    private const int QhOffset = 128;
    private const int ScalesOffset = 192;
    private const int DOffset = 208;
    private const int SubBlocks = 16;

    /// <summary>
    /// <paramref name="w"/> holds <c>y.Length</c> rows of <c>q.Length / 256</c> super-blocks; the activations are
    /// as <see cref="Quantization.Q8_KActivations"/> gives them.
    /// </summary>
    public static void Rows(ReadOnlySpan<byte> w, ReadOnlySpan<sbyte> q, ReadOnlySpan<float> scales, ReadOnlySpan<short> sums, Span<float> y)
    {
        if (Avx512BW.IsSupported)
            Rows512(w, q, scales, sums, y);
        else if (Avx2.IsSupported)
            Rows256(w, q, scales, sums, y);
        else if (Ssse3.IsSupported)
            Rows128(w, q, scales, sums, y);
        else
            RowsScalar(w, q, scales, sums, y);
    }

    private static int Check(ReadOnlySpan<byte> w, ReadOnlySpan<sbyte> q, ReadOnlySpan<float> scales, ReadOnlySpan<short> sums, Span<float> y)
    {
        int blocks = q.Length / BlockWeights;
        if (q.Length % BlockWeights != 0 || scales.Length != blocks || sums.Length != blocks * SubBlocks || w.Length != (long)y.Length * blocks * BlockBytes)
            throw new ArgumentException($"{w.Length} bytes, {q.Length} activations, {scales.Length} scales and {sums.Length} sums are not {y.Length} rows of whole Q6_K super-blocks");
        return blocks;
    }

    private static float D(ReadOnlySpan<byte> block) => (float)BinaryPrimitives.ReadHalfLittleEndian(block[DOffset..]);

    /// <summary>The reference: every level unpacked from the layout's definition, offset by −32, no block sums used.</summary>
    internal static void RowsScalar(ReadOnlySpan<byte> w, ReadOnlySpan<sbyte> q, ReadOnlySpan<float> scales, ReadOnlySpan<short> sums, Span<float> y)
    {
        int blocks = Check(w, q, scales, sums, y);
        Span<int> levels = stackalloc int[BlockWeights];
        for (int r = 0; r < y.Length; r++)
        {
            float sum = 0;
            for (int b = 0; b < blocks; b++)
            {
                var block = w.Slice(((r * blocks) + b) * BlockBytes, BlockBytes);
                for (int half = 0; half < 2; half++)
                {
                    var ql = block.Slice(half * 64, 64);
                    var qh = block.Slice(QhOffset + (half * 32), 32);
                    for (int l = 0; l < 32; l++)
                    {
                        levels[(half * 128) + l] = (ql[l] & 0xF) | ((qh[l] & 3) << 4);
                        levels[(half * 128) + l + 32] = (ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4);
                        levels[(half * 128) + l + 64] = (ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4);
                        levels[(half * 128) + l + 96] = (ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4);
                    }
                }

                int total = 0;
                for (int s = 0; s < SubBlocks; s++)
                {
                    int dot = 0;
                    for (int j = 16 * s; j < 16 * (s + 1); j++)
                        dot += (levels[j] - 32) * q[(b * BlockWeights) + j];
                    total += (sbyte)block[ScalesOffset + s] * dot;
                }

                sum += D(block) * scales[b] * total;
            }

            y[r] = sum;
        }
    }

    internal static void Rows512(ReadOnlySpan<byte> w, ReadOnlySpan<sbyte> q, ReadOnlySpan<float> scales, ReadOnlySpan<short> sums, Span<float> y)
    {
        int blocks = Check(w, q, scales, sums, y);
        ref sbyte a = ref MemoryMarshal.GetReference(q);
        ref short bs = ref MemoryMarshal.GetReference(sums);
        int rowBytes = blocks * BlockBytes;
        // Lane i of a 32-lane int16 product belongs to sub-block first + i/8.
        var lanes = Vector512.Create((short)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
        var m4 = Vector512.Create((byte)0x0F);
        var m30 = Vector512.Create((byte)0x30);
        for (int r = 0; r < y.Length; r++)
        {
            var row = w.Slice(r * rowBytes, rowBytes);
            ref byte wr = ref MemoryMarshal.GetReference(row);
            var acc = Vector512<float>.Zero;
            for (int b = 0; b < blocks; b++)
            {
                ref byte block = ref Unsafe.Add(ref wr, b * BlockBytes);
                ref sbyte x = ref Unsafe.Add(ref a, b * BlockWeights);
                var subScales = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref block, ScalesOffset).AsSByte());
                var subScales512 = subScales.ToVector512Unsafe();
                var dots = Vector512<int>.Zero;
                for (int half = 0; half < 2; half++)
                {
                    // ql's 64 bytes are weights 0…63 (low nibbles) and 64…127 (high); qh pairs with both 32-byte
                    // halves once shifted so that the lower half reads bits 0-1/4-5 and the upper bits 2-3/6-7.
                    var ql = Vector512.LoadUnsafe(ref block, (nuint)(half * 64));
                    var qh = Vector256.LoadUnsafe(ref block, (nuint)(QhOffset + (half * 32)));
                    var qhBoth = Vector512.Create(qh, Vector256.ShiftRightLogical(qh.AsUInt16(), 2).AsByte());
                    var low = (ql & m4) | (Vector512.ShiftLeft(qhBoth.AsUInt16(), 4).AsByte() & m30);
                    var high = (Vector512.ShiftRightLogical(ql.AsUInt16(), 4).AsByte() & m4) | (qhBoth & m30);
                    short first = (short)(half * 8);
                    var lowScales = Avx512BW.PermuteVar32x16(subScales512, lanes + Vector512.Create(first));
                    var highScales = Avx512BW.PermuteVar32x16(subScales512, lanes + Vector512.Create((short)(first + 4)));
                    dots += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(low, Vector512.LoadUnsafe(ref x, (nuint)(half * 128))), lowScales);
                    dots += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(high, Vector512.LoadUnsafe(ref x, (nuint)((half * 128) + 64))), highScales);
                }

                var offset = Avx2.MultiplyAddAdjacent(subScales, Vector256.LoadUnsafe(ref bs, (nuint)(b * SubBlocks)));
                dots -= Vector256.ShiftLeft(offset, 5).ToVector512();
                float d = (float)BitConverter.UInt16BitsToHalf(Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref block, DOffset))) * scales[b];
                acc = Vector512.MultiplyAddEstimate(Avx512F.ConvertToVector512Single(dots), Vector512.Create(d), acc);
            }

            y[r] = Vector512.Sum(acc);
        }
    }

    internal static void Rows256(ReadOnlySpan<byte> w, ReadOnlySpan<sbyte> q, ReadOnlySpan<float> scales, ReadOnlySpan<short> sums, Span<float> y)
    {
        int blocks = Check(w, q, scales, sums, y);
        ref sbyte a = ref MemoryMarshal.GetReference(q);
        ref short bs = ref MemoryMarshal.GetReference(sums);
        int rowBytes = blocks * BlockBytes;
        for (int r = 0; r < y.Length; r++)
        {
            var row = w.Slice(r * rowBytes, rowBytes);
            ref byte wr = ref MemoryMarshal.GetReference(row);
            var acc = Vector256<float>.Zero;
            for (int b = 0; b < blocks; b++)
            {
                ref byte block = ref Unsafe.Add(ref wr, b * BlockBytes);
                ref sbyte x = ref Unsafe.Add(ref a, b * BlockWeights);
                var subScales = Vector128.LoadUnsafe(ref block, ScalesOffset).AsSByte();
                var dots = Half256(ref block, ref x, subScales, 0) + Half256(ref block, ref x, subScales, 1);
                var offset = Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(subScales), Vector256.LoadUnsafe(ref bs, (nuint)(b * SubBlocks)));
                dots -= Vector256.ShiftLeft(offset, 5);
                float d = (float)BitConverter.UInt16BitsToHalf(Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref block, DOffset))) * scales[b];
                acc = Vector256.MultiplyAddEstimate(Avx.ConvertToVector256Single(dots), Vector256.Create(d), acc);
            }

            y[r] = Vector256.Sum(acc);
        }
    }

    /// <summary>Σ scale_s·Σ level·q over one half (128 weights, sub-blocks 8h…8h+7) of a super-block, in eight lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Half256(ref byte block, ref sbyte x, Vector128<sbyte> subScales, int half)
    {
        var m4 = Vector256.Create((byte)0x0F);
        var m30 = Vector256.Create((byte)0x30);
        var ql0 = Vector256.LoadUnsafe(ref block, (nuint)(half * 64));
        var ql1 = Vector256.LoadUnsafe(ref block, (nuint)((half * 64) + 32));
        var qh = Vector256.LoadUnsafe(ref block, (nuint)(QhOffset + (half * 32))).AsUInt16();
        var q1 = (ql0 & m4) | (Vector256.ShiftLeft(qh, 4).AsByte() & m30);
        var q2 = (ql1 & m4) | (Vector256.ShiftLeft(qh, 2).AsByte() & m30);
        var q3 = (Vector256.ShiftRightLogical(ql0.AsUInt16(), 4).AsByte() & m4) | (qh.AsByte() & m30);
        var q4 = (Vector256.ShiftRightLogical(ql1.AsUInt16(), 4).AsByte() & m4) | (Vector256.ShiftRightLogical(qh, 2).AsByte() & m30);
        int first = half * 8;
        nuint e = (nuint)(half * 128);
        return Scaled256(q1, Vector256.LoadUnsafe(ref x, e), subScales, first)
            + Scaled256(q2, Vector256.LoadUnsafe(ref x, e + 32), subScales, first + 2)
            + Scaled256(q3, Vector256.LoadUnsafe(ref x, e + 64), subScales, first + 4)
            + Scaled256(q4, Vector256.LoadUnsafe(ref x, e + 96), subScales, first + 6);
    }

    /// <summary>32 levels (sub-blocks s and s+1) times activations, each int16 pair sum scaled by its sub-block's scale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Scaled256(Vector256<byte> levels, Vector256<sbyte> x, Vector128<sbyte> subScales, int s)
    {
        // The low 128-bit lane holds sub-block s's pair sums, the high lane s+1's.
        var pick = Vector128.Create(Vector64.Create((sbyte)s), Vector64.Create((sbyte)(s + 1)));
        var laneScales = Avx2.ConvertToVector256Int16(Ssse3.Shuffle(subScales, pick));
        return Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(levels, x), laneScales);
    }

    internal static void Rows128(ReadOnlySpan<byte> w, ReadOnlySpan<sbyte> q, ReadOnlySpan<float> scales, ReadOnlySpan<short> sums, Span<float> y)
    {
        int blocks = Check(w, q, scales, sums, y);
        ref sbyte a = ref MemoryMarshal.GetReference(q);
        int rowBytes = blocks * BlockBytes;
        var m4 = Vector128.Create((byte)0x0F);
        var m30 = Vector128.Create((byte)0x30);
        for (int r = 0; r < y.Length; r++)
        {
            var row = w.Slice(r * rowBytes, rowBytes);
            ref byte wr = ref MemoryMarshal.GetReference(row);
            float sum = 0;
            for (int b = 0; b < blocks; b++)
            {
                ref byte block = ref Unsafe.Add(ref wr, b * BlockBytes);
                ref sbyte x = ref Unsafe.Add(ref a, b * BlockWeights);
                var dots = Vector128<int>.Zero;
                // Sixteen weights per register: one sub-block each, so its scale is a broadcast.
                for (int half = 0; half < 2; half++)
                {
                    for (int part = 0; part < 2; part++)
                    {
                        var ql0 = Vector128.LoadUnsafe(ref block, (nuint)((half * 64) + (part * 16)));
                        var ql1 = Vector128.LoadUnsafe(ref block, (nuint)((half * 64) + 32 + (part * 16)));
                        var qh = Vector128.LoadUnsafe(ref block, (nuint)(QhOffset + (half * 32) + (part * 16))).AsUInt16();
                        int s = (half * 8) + part;
                        nuint e = (nuint)((half * 128) + (part * 16));
                        dots += Scaled128((ql0 & m4) | (Vector128.ShiftLeft(qh, 4).AsByte() & m30), ref x, e, ref block, s);
                        dots += Scaled128((ql1 & m4) | (Vector128.ShiftLeft(qh, 2).AsByte() & m30), ref x, e + 32, ref block, s + 2);
                        dots += Scaled128((Vector128.ShiftRightLogical(ql0.AsUInt16(), 4).AsByte() & m4) | (qh.AsByte() & m30), ref x, e + 64, ref block, s + 4);
                        dots += Scaled128((Vector128.ShiftRightLogical(ql1.AsUInt16(), 4).AsByte() & m4) | (Vector128.ShiftRightLogical(qh, 2).AsByte() & m30), ref x, e + 96, ref block, s + 6);
                    }
                }

                int offset = 0;
                for (int s = 0; s < SubBlocks; s++)
                    offset += (sbyte)Unsafe.Add(ref block, ScalesOffset + s) * sums[(b * SubBlocks) + s];
                int total = Vector128.Sum(dots) - (32 * offset);
                sum += (float)BitConverter.UInt16BitsToHalf(Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref block, DOffset))) * scales[b] * total;
            }

            y[r] = sum;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Scaled128(Vector128<byte> levels, ref sbyte x, nuint e, ref byte block, int s) =>
        Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(levels, Vector128.LoadUnsafe(ref x, e)), Vector128.Create((short)(sbyte)Unsafe.Add(ref block, ScalesOffset + s)));
}
