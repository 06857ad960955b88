using System.Numerics;
using Tern.Runtime;

namespace Tern.Training.Layers;

/// <summary>
/// BitNet b1.58's linear layer (docs/training.md): ternary weights γ·W̃ per matrix, int8 activations q / s per
/// token, y = (q · W̃ᵀ) · γ / s, and the straight-through estimator in the backward pass: dX = dY · γW̃ and
/// dW = dYᵀ · (q / s); γ and s take no gradient. Without quantization the same calls compute y = x · Wᵀ.
/// </summary>
public static class BitLinear
{
    public const double MinScale = 1e-5;

    /// <summary>γ = max(mean|W|, 1e-5) (the sum taken in double) and W̃ = clamp(round(W / γ), −1, 1).</summary>
    public static T QuantizeWeights<T>(ReadOnlySpan<T> weights, Span<T> ternary)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double sum = 0;
        foreach (T w in weights)
            sum += double.CreateChecked(T.Abs(w));
        T gamma = T.CreateChecked(Math.Max(sum / weights.Length, MinScale));
        T minusOne = -T.One;
        for (int i = 0; i < weights.Length; i++)
            ternary[i] = T.Clamp(T.Round(weights[i] / gamma, MidpointRounding.ToEven), minusOne, T.One);
        return gamma;
    }

    /// <summary>Per row: s = 127 / max(max|x|, 1e-5), q = clamp(round(x·s), −128, 127), as the engine's quantizer.</summary>
    public static void Prepare<T>(WorkerPool? pool, T[] x, int rows, BitLinearInput<T> input)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int width = input.Width;
        if (input.Scales is not { } scales)
        {
            x.AsSpan(0, rows * width).CopyTo(input.Values);
            return;
        }

        T limit = T.CreateChecked(127), low = T.CreateChecked(-128), minimum = T.CreateChecked(MinScale);
        ParallelRanges.For(pool, rows, (start, end) =>
        {
            for (int r = start; r < end; r++)
            {
                var xr = x.AsSpan(r * width, width);
                var qr = input.Values.AsSpan(r * width, width);
                T max = T.Zero;
                foreach (T v in xr)
                    max = T.Max(max, T.Abs(v));
                T s = limit / T.Max(max, minimum);
                scales[r] = s;
                for (int i = 0; i < width; i++)
                    qr[i] = T.Clamp(T.Round(xr[i] * s, MidpointRounding.ToEven), low, limit);
            }
        });
    }

    /// <summary>y[rows, outDim] = the layer's output for the prepared input; <paramref name="weights"/> is W̃ (with
    /// scale γ) or W (γ = 1) as [outDim, inDim].</summary>
    public static void Forward<T>(WorkerPool? pool, BitLinearInput<T> input, int rows, T[] weights, int weightOffset, T gamma, int outDim, T[] y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int inDim = input.Width;
        Gemm.Multiply(pool, rows, outDim, inDim, new MatrixOperand<T>(input.Values, 0, inDim), new MatrixOperand<T>(weights, weightOffset, inDim, Transposed: true), y, 0, outDim, accumulate: false);
        if (input.Scales is { } scales)
        {
            ParallelRanges.For(pool, rows, (start, end) =>
            {
                for (int r = start; r < end; r++)
                {
                    T factor = gamma / scales[r];
                    foreach (ref T v in y.AsSpan(r * outDim, outDim))
                        v *= factor;
                }
            });
        }
    }

    /// <summary>dx (+)= dy · γW̃ (or dy · W); <paramref name="scratch"/> holds at least rows × outDim values.</summary>
    public static void BackwardInput<T>(WorkerPool? pool, T[] dy, int rows, int outDim, T[] weights, int weightOffset, T gamma, int inDim, T[] dx, bool accumulate, T[] scratch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] source = dy;
        if (gamma != T.One)
        {
            var scaled = scratch.AsSpan(0, rows * outDim);
            dy.AsSpan(0, rows * outDim).CopyTo(scaled);
            foreach (ref T v in scaled)
                v *= gamma;
            source = scratch;
        }

        Gemm.Multiply(pool, rows, inDim, outDim, new MatrixOperand<T>(source, 0, outDim), new MatrixOperand<T>(weights, weightOffset, inDim), dx, 0, inDim, accumulate);
    }

    /// <summary>dW[outDim, inDim] += (dy / s)ᵀ · q (or dyᵀ · x); <paramref name="scratch"/> holds rows × outDim values.</summary>
    public static void BackwardWeights<T>(WorkerPool? pool, T[] dy, int rows, int outDim, BitLinearInput<T> input, T[] weightGradient, int gradientOffset, T[] scratch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] source = dy;
        if (input.Scales is { } scales)
        {
            ParallelRanges.For(pool, rows, (start, end) =>
            {
                for (int r = start; r < end; r++)
                {
                    T inverse = T.One / scales[r];
                    var from = dy.AsSpan(r * outDim, outDim);
                    var to = scratch.AsSpan(r * outDim, outDim);
                    for (int i = 0; i < outDim; i++)
                        to[i] = from[i] * inverse;
                }
            });
            source = scratch;
        }

        int inDim = input.Width;
        Gemm.Multiply(pool, outDim, inDim, rows, new MatrixOperand<T>(source, 0, outDim, Transposed: true), new MatrixOperand<T>(input.Values, 0, inDim), weightGradient, gradientOffset, inDim, accumulate: true);
    }
}
