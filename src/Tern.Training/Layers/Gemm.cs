using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Tern.Runtime;

namespace Tern.Training.Layers;

/// <summary>
/// C[m, n] = (C +) A[m, k] · B[k, n] for the trainer's three products (Y = X·Wᵀ, dX = dY·W, dW += dYᵀ·X).
/// C is cut into tiles that one thread computes whole, each summing k in the same order, so the result does not
/// depend on the thread count. Inside a tile, blocks of A and B are packed into the micro-kernel's order (which
/// also absorbs the transposes), then a register-blocked kernel runs over them: 6 × 16 floats with AVX2 and FMA,
/// plain loops otherwise (and for double, which only the gradient checks use).
/// </summary>
public static class Gemm
{
    private const int RowBlock = 6, ColumnBlock = 16;
    private const int TileRows = RowBlock * 12, TileColumns = ColumnBlock * 8, DepthBlock = 256;

    public static void Multiply<T>(WorkerPool? pool, int m, int n, int k, MatrixOperand<T> a, MatrixOperand<T> b, T[] c, int cOffset, int cStride, bool accumulate)
        where T : unmanaged, INumber<T>
    {
        if (m == 0 || n == 0)
            return;
        if (k == 0)
        {
            if (!accumulate)
            {
                for (int i = 0; i < m; i++)
                    c.AsSpan(cOffset + (i * cStride), n).Clear();
            }

            return;
        }

        var work = new TileWork<T>(m, n, k, a, b, c, cOffset, cStride, accumulate);
        if (pool is { Threads: > 1 } && work.TileCount > 1)
            pool.Run(work);
        else
            work.Execute(0, 1);
    }

    private sealed class TileWork<T>(int m, int n, int k, MatrixOperand<T> a, MatrixOperand<T> b, T[] c, int cOffset, int cStride, bool accumulate) : IParallelWork
        where T : unmanaged, INumber<T>
    {
        private readonly int _tileColumns = (n + TileColumns - 1) / TileColumns;
        private int _next = -1;

        public int TileCount => ((m + TileRows - 1) / TileRows) * _tileColumns;

        [ThreadStatic]
        private static T[]? t_packedA, t_packedB;

        public void Execute(int worker, int workers)
        {
            var packedA = t_packedA ??= new T[TileRows * DepthBlock];
            var packedB = t_packedB ??= new T[TileColumns * DepthBlock];
            Span<T> edge = stackalloc T[RowBlock * ColumnBlock];
            int tile;
            while ((tile = Interlocked.Increment(ref _next)) < TileCount)
            {
                int i0 = tile / _tileColumns * TileRows, j0 = tile % _tileColumns * TileColumns;
                int rows = Math.Min(TileRows, m - i0), columns = Math.Min(TileColumns, n - j0);
                for (int p0 = 0; p0 < k; p0 += DepthBlock)
                {
                    int depth = Math.Min(DepthBlock, k - p0);
                    PackA(packedA, i0, rows, p0, depth);
                    PackB(packedB, j0, columns, p0, depth);
                    bool add = accumulate || p0 > 0;
                    for (int jr = 0; jr < columns; jr += ColumnBlock)
                    {
                        for (int ir = 0; ir < rows; ir += RowBlock)
                        {
                            int r = Math.Min(RowBlock, rows - ir), cc = Math.Min(ColumnBlock, columns - jr);
                            var pa = packedA.AsSpan(ir * depth, RowBlock * depth);
                            var pb = packedB.AsSpan(jr * depth, ColumnBlock * depth);
                            int cIndex = cOffset + ((i0 + ir) * cStride) + j0 + jr;
                            if (r == RowBlock && cc == ColumnBlock)
                            {
                                MicroKernel(pa, pb, depth, c.AsSpan(cIndex), cStride, add);
                            }
                            else
                            {
                                if (add)
                                {
                                    for (int i = 0; i < r; i++)
                                        c.AsSpan(cIndex + (i * cStride), cc).CopyTo(edge.Slice(i * ColumnBlock));
                                }

                                MicroKernel(pa, pb, depth, edge, ColumnBlock, add);
                                for (int i = 0; i < r; i++)
                                    edge.Slice(i * ColumnBlock, cc).CopyTo(c.AsSpan(cIndex + (i * cStride), cc));
                            }
                        }
                    }
                }
            }
        }

        /// <summary>Rows [i0, i0+rows) × depth [p0, p0+depth) of A as panels of 6 rows: panel, then p, then the row
        /// within the panel; rows past the edge are zero.</summary>
        private void PackA(T[] packed, int i0, int rows, int p0, int depth)
        {
            for (int ir = 0; ir < rows; ir += RowBlock)
            {
                int r = Math.Min(RowBlock, rows - ir);
                var panel = packed.AsSpan(ir * depth, RowBlock * depth);
                if (r < RowBlock)
                    panel.Clear();
                for (int i = 0; i < r; i++)
                {
                    int row = i0 + ir + i;
                    if (a.Transposed)
                    {
                        for (int p = 0; p < depth; p++)
                            panel[(p * RowBlock) + i] = a.Data[a.Offset + ((p0 + p) * a.Stride) + row];
                    }
                    else
                    {
                        var source = a.Data.AsSpan(a.Offset + (row * a.Stride) + p0, depth);
                        for (int p = 0; p < depth; p++)
                            panel[(p * RowBlock) + i] = source[p];
                    }
                }
            }
        }

        /// <summary>Columns [j0, j0+columns) × depth of B as panels of 16 columns: panel, then p, then the column.</summary>
        private void PackB(T[] packed, int j0, int columns, int p0, int depth)
        {
            for (int jr = 0; jr < columns; jr += ColumnBlock)
            {
                int cc = Math.Min(ColumnBlock, columns - jr);
                var panel = packed.AsSpan(jr * depth, ColumnBlock * depth);
                if (cc < ColumnBlock)
                    panel.Clear();
                if (b.Transposed)
                {
                    for (int j = 0; j < cc; j++)
                    {
                        var source = b.Data.AsSpan(b.Offset + ((j0 + jr + j) * b.Stride) + p0, depth);
                        for (int p = 0; p < depth; p++)
                            panel[(p * ColumnBlock) + j] = source[p];
                    }
                }
                else
                {
                    for (int p = 0; p < depth; p++)
                        b.Data.AsSpan(b.Offset + ((p0 + p) * b.Stride) + j0 + jr, cc).CopyTo(panel.Slice(p * ColumnBlock));
                }
            }
        }
    }

    private static void MicroKernel<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, int depth, Span<T> c, int cStride, bool add)
        where T : unmanaged, INumber<T>
    {
        if (typeof(T) == typeof(float) && Fma.IsSupported)
        {
            MicroKernelFma(
                Unsafe.BitCast<ReadOnlySpan<T>, ReadOnlySpan<float>>(a),
                Unsafe.BitCast<ReadOnlySpan<T>, ReadOnlySpan<float>>(b),
                depth,
                Unsafe.BitCast<Span<T>, Span<float>>(c),
                cStride,
                add);
            return;
        }

        Span<T> sums = stackalloc T[RowBlock * ColumnBlock];
        sums.Clear();
        for (int p = 0; p < depth; p++)
        {
            var bp = b.Slice(p * ColumnBlock, ColumnBlock);
            for (int i = 0; i < RowBlock; i++)
            {
                T ai = a[(p * RowBlock) + i];
                var row = sums.Slice(i * ColumnBlock, ColumnBlock);
                for (int j = 0; j < ColumnBlock; j++)
                    row[j] += ai * bp[j];
            }
        }

        for (int i = 0; i < RowBlock; i++)
        {
            var target = c.Slice(i * cStride, ColumnBlock);
            var row = sums.Slice(i * ColumnBlock, ColumnBlock);
            for (int j = 0; j < ColumnBlock; j++)
                target[j] = add ? target[j] + row[j] : row[j];
        }
    }

    private static unsafe void MicroKernelFma(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int depth, Span<float> c, int cStride, bool add)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        fixed (float* pa0 = a, pb0 = b, pc = c)
        {
            float* pa = pa0, pb = pb0;
            for (int p = 0; p < depth; p++, pa += RowBlock, pb += ColumnBlock)
            {
                var b0 = Avx.LoadVector256(pb);
                var b1 = Avx.LoadVector256(pb + 8);
                var x = Vector256.Create(pa[0]);
                c00 = Fma.MultiplyAdd(x, b0, c00);
                c01 = Fma.MultiplyAdd(x, b1, c01);
                x = Vector256.Create(pa[1]);
                c10 = Fma.MultiplyAdd(x, b0, c10);
                c11 = Fma.MultiplyAdd(x, b1, c11);
                x = Vector256.Create(pa[2]);
                c20 = Fma.MultiplyAdd(x, b0, c20);
                c21 = Fma.MultiplyAdd(x, b1, c21);
                x = Vector256.Create(pa[3]);
                c30 = Fma.MultiplyAdd(x, b0, c30);
                c31 = Fma.MultiplyAdd(x, b1, c31);
                x = Vector256.Create(pa[4]);
                c40 = Fma.MultiplyAdd(x, b0, c40);
                c41 = Fma.MultiplyAdd(x, b1, c41);
                x = Vector256.Create(pa[5]);
                c50 = Fma.MultiplyAdd(x, b0, c50);
                c51 = Fma.MultiplyAdd(x, b1, c51);
            }

            Store(pc, c00, c01, add);
            Store(pc + cStride, c10, c11, add);
            Store(pc + (2 * cStride), c20, c21, add);
            Store(pc + (3 * cStride), c30, c31, add);
            Store(pc + (4 * cStride), c40, c41, add);
            Store(pc + (5 * cStride), c50, c51, add);
        }

        static void Store(float* row, Vector256<float> left, Vector256<float> right, bool add)
        {
            if (add)
            {
                left += Avx.LoadVector256(row);
                right += Avx.LoadVector256(row + 8);
            }

            Avx.Store(row, left);
            Avx.Store(row + 8, right);
        }
    }
}
