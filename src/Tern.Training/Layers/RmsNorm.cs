using System.Numerics;
using Tern.Runtime;

namespace Tern.Training.Layers;

/// <summary>y = w ⊙ x / sqrt(mean(x²) + ε), row by row; the backward pass from the kept inputs and reciprocal RMS.</summary>
public static class RmsNorm
{
    public static void Forward<T>(WorkerPool? pool, T[] x, T[] weight, int weightOffset, int rows, int width, T epsilon, T[] y, T[] reciprocalRms)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ParallelRanges.For(pool, rows, (start, end) =>
        {
            var w = weight.AsSpan(weightOffset, width);
            for (int r = start; r < end; r++)
            {
                var xr = x.AsSpan(r * width, width);
                var yr = y.AsSpan(r * width, width);
                T sumOfSquares = T.Zero;
                foreach (T v in xr)
                    sumOfSquares += v * v;
                T inverse = T.One / T.Sqrt((sumOfSquares / T.CreateChecked(width)) + epsilon);
                reciprocalRms[r] = inverse;
                for (int i = 0; i < width; i++)
                    yr[i] = w[i] * (inverse * xr[i]);
            }
        });
    }

    /// <summary>dx = r·(w⊙dy) − r³/n · x · Σ(x ⊙ w ⊙ dy) (written, not added); dw += Σ over rows of dy ⊙ x·r, summed in
    /// fixed blocks of rows so the result does not depend on the thread count.</summary>
    public static void Backward<T>(WorkerPool? pool, T[] x, T[] weight, int weightOffset, T[] reciprocalRms, T[] dy, int rows, int width, T[] dx, T[] weightGradient, int gradientOffset)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int BlockRows = 64;
        int blocks = (rows + BlockRows - 1) / BlockRows;
        var partial = new T[blocks * width];
        ParallelRanges.For(pool, blocks, (startBlock, endBlock) =>
        {
            var w = weight.AsSpan(weightOffset, width);
            T n = T.CreateChecked(width);
            for (int block = startBlock; block < endBlock; block++)
            {
                var sums = partial.AsSpan(block * width, width);
                for (int r = block * BlockRows; r < Math.Min(rows, (block + 1) * BlockRows); r++)
                {
                    var xr = x.AsSpan(r * width, width);
                    var dyr = dy.AsSpan(r * width, width);
                    var dxr = dx.AsSpan(r * width, width);
                    T inverse = reciprocalRms[r];
                    T dot = T.Zero;
                    for (int i = 0; i < width; i++)
                    {
                        dot += xr[i] * w[i] * dyr[i];
                        sums[i] += dyr[i] * xr[i] * inverse;
                    }

                    T correction = inverse * inverse * inverse * dot / n;
                    for (int i = 0; i < width; i++)
                        dxr[i] = (inverse * w[i] * dyr[i]) - (correction * xr[i]);
                }
            }
        });

        var dw = weightGradient.AsSpan(gradientOffset, width);
        for (int block = 0; block < blocks; block++)
        {
            var sums = partial.AsSpan(block * width, width);
            for (int i = 0; i < width; i++)
                dw[i] += sums[i];
        }
    }
}
