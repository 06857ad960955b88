using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tern.Kernels;

/// <summary>
/// Rows of Q8_0 weights (ggml's 34-byte blocks: fp16 d, 32 int8) times activations quantized to Q8_0 once per
/// product: y[r] = Σ_b d_w·d_x·(Σⱼ w·q), the block sums exact integers, as llama.cpp's ggml_vec_dot_q8_0_q8_0.
/// PMADDUBSW multiplies an unsigned byte by a signed one, so the kernels multiply |w| by q with w's sign moved onto
/// it (PSIGNB; masked negation at 512 bits, which has no PSIGNB). The other choice, w + 128 as the unsigned operand
/// with a −128·Σq correction per block, overflows: a pair of products reaches 2·255·127 and PMADDUBSW saturates at
/// 32767. With |w| ≤ 128 and |q| ≤ 127 a pair stays within 2·128·127 = 32512, so the products are exact even for a
/// weight of −128. Each block's integer sum becomes a float only to be scaled, so paths differ in float rounding only.
/// </summary>
internal static class Q8_0Dot
{
    public const int BlockWeights = 32;
    public const int BlockBytes = 34;

    /// <summary>Most blocks per row whose scales go on the stack.</summary>
    private const int StackBlocks = 512;

    /// <summary>
    /// <paramref name="w"/> holds <c>y.Length</c> rows of <c>q.Length / 32</c> blocks; <paramref name="q"/> and
    /// <paramref name="scales"/> are the activations as <see cref="Quantization.Q8_0Activations"/> gives them.
    /// </summary>
    public static void Rows(ReadOnlySpan<byte> w, ReadOnlySpan<sbyte> q, ReadOnlySpan<float> scales, Span<float> y)
    {
        if (Avx512BW.IsSupported)
            Rows512(w, q, scales, y);
        else if (Avx2.IsSupported)
            Rows256(w, q, scales, y);
        else if (Ssse3.IsSupported)
            Rows128(w, q, scales, y);
        else
            RowsScalar(w, q, scales, y);
    }

    private static int Check(ReadOnlySpan<byte> w, ReadOnlySpan<sbyte> q, ReadOnlySpan<float> scales, Span<float> y)
    {
        int blocks = q.Length / BlockWeights;
        if (q.Length % BlockWeights != 0 || scales.Length != blocks || w.Length != (long)y.Length * blocks * BlockBytes)
            throw new ArgumentException($"{w.Length} bytes, {q.Length} activations and {scales.Length} scales are not {y.Length} rows of whole Q8_0 blocks");
        return blocks;
    }

    /// <summary>The reference: each block's integer dot product, scaled by d_w·d_x and summed in order.</summary>
    internal static void RowsScalar(ReadOnlySpan<byte> w, ReadOnlySpan<sbyte> q, ReadOnlySpan<float> scales, Span<float> y)
    {
        int blocks = Check(w, q, scales, y);
        for (int r = 0; r < y.Length; r++)
        {
            float sum = 0;
            for (int b = 0; b < blocks; b++)
            {
                var block = w.Slice(((r * blocks) + b) * BlockBytes, BlockBytes);
                int dot = 0;
                for (int j = 0; j < BlockWeights; j++)
                    dot += (sbyte)block[2 + j] * q[(b * BlockWeights) + j];
                sum += (float)BinaryPrimitives.ReadHalfLittleEndian(block) * scales[b] * dot;
            }

            y[r] = sum;
        }
    }

    /// <summary>d_w·d_x for each block of a row: the fp16 scales gathered, widened together and multiplied.</summary>
    private static void BlockScales(ReadOnlySpan<byte> row, ReadOnlySpan<float> activationScales, Span<Half> halves, Span<float> destination)
    {
        for (int b = 0; b < halves.Length; b++)
            halves[b] = Unsafe.ReadUnaligned<Half>(in row[b * BlockBytes]);
        TensorPrimitives.ConvertToSingle(halves, destination);
        TensorPrimitives.Multiply(destination, activationScales, destination);
    }

    internal static void Rows512(ReadOnlySpan<byte> w, ReadOnlySpan<sbyte> q, ReadOnlySpan<float> scales, Span<float> y)
    {
        int blocks = Check(w, q, scales, y);
        Span<Half> halves = blocks <= StackBlocks ? stackalloc Half[blocks] : new Half[blocks];
        Span<float> s = blocks <= StackBlocks ? stackalloc float[blocks] : new float[blocks];
        ref sbyte a = ref MemoryMarshal.GetReference(q);
        ref float sr = ref MemoryMarshal.GetReference(s);
        int rowBytes = blocks * BlockBytes;
        for (int r = 0; r < y.Length; r++)
        {
            var row = w.Slice(r * rowBytes, rowBytes);
            BlockScales(row, scales, halves, s);
            ref byte wr = ref MemoryMarshal.GetReference(row);
            var acc = Vector512<float>.Zero;
            nuint b = 0;
            // Two blocks per step: their 32 weights each fill the two halves of one register.
            for (; b + 2 <= (nuint)blocks; b += 2)
            {
                var wv = Vector512.Create(
                    Vector256.LoadUnsafe(ref wr, (b * BlockBytes) + 2),
                    Vector256.LoadUnsafe(ref wr, ((b + 1) * BlockBytes) + 2)).AsSByte();
                var av = Vector512.LoadUnsafe(ref a, b * BlockWeights);
                var signed = Vector512.ConditionalSelect(Vector512.LessThan(wv, Vector512<sbyte>.Zero), -av, av);
                var pairs = Avx512BW.MultiplyAddAdjacent(Avx512BW.Abs(wv), signed);
                var sums = Avx512BW.MultiplyAddAdjacent(pairs, Vector512.Create((short)1));
                var scale = Vector512.Create(Vector256.Create(Unsafe.Add(ref sr, b)), Vector256.Create(Unsafe.Add(ref sr, b + 1)));
                acc = Vector512.MultiplyAddEstimate(Avx512F.ConvertToVector512Single(sums), scale, acc);
            }

            float sum = Vector512.Sum(acc);
            if (b < (nuint)blocks)
                sum += Vector256.Sum(Block256(ref wr, ref a, b) * Unsafe.Add(ref sr, b));
            y[r] = sum;
        }
    }

    internal static void Rows256(ReadOnlySpan<byte> w, ReadOnlySpan<sbyte> q, ReadOnlySpan<float> scales, Span<float> y)
    {
        int blocks = Check(w, q, scales, y);
        Span<Half> halves = blocks <= StackBlocks ? stackalloc Half[blocks] : new Half[blocks];
        Span<float> s = blocks <= StackBlocks ? stackalloc float[blocks] : new float[blocks];
        ref sbyte a = ref MemoryMarshal.GetReference(q);
        ref float sr = ref MemoryMarshal.GetReference(s);
        int rowBytes = blocks * BlockBytes;
        for (int r = 0; r < y.Length; r++)
        {
            var row = w.Slice(r * rowBytes, rowBytes);
            BlockScales(row, scales, halves, s);
            ref byte wr = ref MemoryMarshal.GetReference(row);
            // Two sums, so that consecutive blocks do not wait on each other's FMA.
            Vector256<float> even = default, odd = default;
            nuint b = 0;
            for (; b + 2 <= (nuint)blocks; b += 2)
            {
                even = Vector256.MultiplyAddEstimate(Block256(ref wr, ref a, b), Vector256.Create(Unsafe.Add(ref sr, b)), even);
                odd = Vector256.MultiplyAddEstimate(Block256(ref wr, ref a, b + 1), Vector256.Create(Unsafe.Add(ref sr, b + 1)), odd);
            }

            if (b < (nuint)blocks)
                even = Vector256.MultiplyAddEstimate(Block256(ref wr, ref a, b), Vector256.Create(Unsafe.Add(ref sr, b)), even);
            y[r] = Vector256.Sum(even + odd);
        }
    }

    /// <summary>Block <paramref name="b"/>'s integer dot product as eight partial sums, converted to float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Block256(ref byte row, ref sbyte a, nuint b)
    {
        var wv = Vector256.LoadUnsafe(ref row, (b * BlockBytes) + 2).AsSByte();
        var av = Vector256.LoadUnsafe(ref a, b * BlockWeights);
        var pairs = Avx2.MultiplyAddAdjacent(Avx2.Abs(wv), Avx2.Sign(av, wv));
        return Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(pairs, Vector256.Create((short)1)));
    }

    internal static void Rows128(ReadOnlySpan<byte> w, ReadOnlySpan<sbyte> q, ReadOnlySpan<float> scales, Span<float> y)
    {
        int blocks = Check(w, q, scales, y);
        Span<Half> halves = blocks <= StackBlocks ? stackalloc Half[blocks] : new Half[blocks];
        Span<float> s = blocks <= StackBlocks ? stackalloc float[blocks] : new float[blocks];
        ref sbyte a = ref MemoryMarshal.GetReference(q);
        var ones = Vector128.Create((short)1);
        int rowBytes = blocks * BlockBytes;
        for (int r = 0; r < y.Length; r++)
        {
            var row = w.Slice(r * rowBytes, rowBytes);
            BlockScales(row, scales, halves, s);
            ref byte wr = ref MemoryMarshal.GetReference(row);
            var acc = Vector128<float>.Zero;
            for (nuint b = 0; b < (nuint)blocks; b++)
            {
                var lowW = Vector128.LoadUnsafe(ref wr, (b * BlockBytes) + 2).AsSByte();
                var highW = Vector128.LoadUnsafe(ref wr, (b * BlockBytes) + 18).AsSByte();
                var lowA = Vector128.LoadUnsafe(ref a, b * BlockWeights);
                var highA = Vector128.LoadUnsafe(ref a, (b * BlockWeights) + 16);
                var sums = Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(Ssse3.Abs(lowW), Ssse3.Sign(lowA, lowW)), ones)
                    + Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(Ssse3.Abs(highW), Ssse3.Sign(highA, highW)), ones);
                acc += Sse2.ConvertToVector128Single(sums) * Vector128.Create(s[(int)b]);
            }

            y[r] = Vector128.Sum(acc);
        }
    }
}
