using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tern.Kernels;

/// <summary>
/// Σ c·q over rows of 2-bit ternary codes c = w̃ + 1 ∈ {0, 1, 2} in bitnet.cpp's I2_S block layout (128 weights in
/// 32 bytes; byte j holds elements j, j+32, j+64, j+96 in bits 7-6, 5-4, 3-2, 1-0) and int8 activations q. The
/// caller subtracts Σq to get W̃·q. Unsigned codes times signed activations is exactly what PMADDUBSW multiplies.
/// </summary>
/// <remarks>
/// The SIMD paths unpack with one shift per 32 bytes: masking the codes (and the codes shifted right by 4) with
/// 0b1100 and 0b0011 gives two groups as 4c and two as c, so no further shift is needed. The int16 sums of the
/// 4c groups grow by at most 4096 per block (8 · 128 · 2 · 2, |q| ≤ 128), so eight blocks fit before they are widened
/// to int32; the c groups are weighted by 4 when widened, and the row's total is divided by 4 at the end, exactly.
/// The bound holds for the codes an I2_S encoder writes (0, 1, 2); the unused code 3 may saturate on the SIMD paths.
/// </remarks>
public static partial class TernaryCodesDot
{
    public const int BlockWeights = 128;
    public const int BlockBytes = 32;

    /// <summary>Blocks whose int16 sums are safe before they are widened (see remarks).</summary>
    private const int BlocksPerFlush = 8;

    public static int Dot(ReadOnlySpan<byte> codes, ReadOnlySpan<sbyte> q)
    {
        Check(codes, q);
        Span<int> sum = stackalloc int[1];
        Multiply(codes, q.Length, q, 1, sum, 1);
        return sum[0];
    }

    /// <summary>
    /// sums[t·sumStride + r] = Σ c·q of row r of <paramref name="codes"/> (rows of <paramref name="columns"/> / 4
    /// bytes) with token t's activations q[t·columns …]. Each row's codes are unpacked once for four tokens.
    /// </summary>
    public static void Multiply(ReadOnlySpan<byte> codes, int columns, ReadOnlySpan<sbyte> q, int tokens, Span<int> sums, int sumStride)
    {
        if (columns <= 0 || columns % BlockWeights != 0)
            throw new ArgumentException($"rows of {columns} weights: a row is whole blocks of {BlockWeights}", nameof(columns));
        int rowBytes = columns / 4, rows = codes.Length / rowBytes;
        if (codes.Length % rowBytes != 0)
            throw new ArgumentException($"{codes.Length} code bytes are not whole rows of {rowBytes}", nameof(codes));
        if (tokens < 1 || q.Length < (long)tokens * columns)
            throw new ArgumentException($"{q.Length} activations do not hold {tokens} tokens of {columns}", nameof(q));
        if (rows > 0 && (sumStride < rows || sums.Length < ((long)(tokens - 1) * sumStride) + rows))
            throw new ArgumentException($"{sums.Length} sums (stride {sumStride}) do not hold {tokens} tokens of {rows} rows", nameof(sums));

        if (Avx512BW.IsSupported)
            Multiply512(codes, columns, q, tokens, sums, sumStride);
        else if (Avx2.IsSupported)
            MultiplyRowByRow(codes, columns, q, tokens, sums, sumStride, Dot256);
        else if (Ssse3.IsSupported)
            MultiplyRowByRow(codes, columns, q, tokens, sums, sumStride, Dot128);
        else if (Vector128.IsHardwareAccelerated)
            MultiplyRowByRow(codes, columns, q, tokens, sums, sumStride, DotPortable);
        else
            MultiplyRowByRow(codes, columns, q, tokens, sums, sumStride, DotScalar);
    }

    internal static void Check(ReadOnlySpan<byte> codes, ReadOnlySpan<sbyte> q)
    {
        if (q.Length % BlockWeights != 0 || codes.Length * 4 != q.Length || q.Length == 0)
            throw new ArgumentException($"{codes.Length} code bytes and {q.Length} activations: a row is whole blocks of {BlockWeights} weights in {BlockBytes} bytes");
    }

    private delegate int RowDot(ReadOnlySpan<byte> codes, ReadOnlySpan<sbyte> q);

    private static void MultiplyRowByRow(ReadOnlySpan<byte> codes, int columns, ReadOnlySpan<sbyte> q, int tokens, Span<int> sums, int sumStride, RowDot dot)
    {
        int rowBytes = columns / 4, rows = codes.Length / rowBytes;
        for (int r = 0; r < rows; r++)
        {
            var row = codes.Slice(r * rowBytes, rowBytes);
            for (int t = 0; t < tokens; t++)
                sums[(t * sumStride) + r] = dot(row, q.Slice(t * columns, columns));
        }
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

    /// <summary>The reference for a whole product, row by row and token by token.</summary>
    internal static void MultiplyScalar(ReadOnlySpan<byte> codes, int columns, ReadOnlySpan<sbyte> q, int tokens, Span<int> sums, int sumStride) =>
        MultiplyRowByRow(codes, columns, q, tokens, sums, sumStride, DotScalar);

    private static ref byte First(ReadOnlySpan<byte> span) => ref MemoryMarshal.GetReference(span);

    private static ref sbyte First(ReadOnlySpan<sbyte> span) => ref MemoryMarshal.GetReference(span);
}
