using System.Numerics;
using Tern.Runtime;

namespace Tern.Training.Layers;

/// <summary>
/// RoPE over the heads of each row (row n is position n mod T), with the angles computed in T the way the engine
/// computes them in float (ω_i = 1 / θ^(2i/hd), angle = p·ω_i), pairing (i, i + hd/2) or (2i, 2i + 1).
/// The backward pass rotates the gradient by the opposite angle.
/// </summary>
public sealed class RotaryEmbedding<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] _cos, _sin;
    private readonly int _half, _headDim, _context;
    private readonly bool _halves;

    public RotaryEmbedding(int headDim, int context, float theta, bool rotatesHalves)
    {
        (_headDim, _half, _context, _halves) = (headDim, headDim / 2, context, rotatesHalves);
        _cos = new T[context * _half];
        _sin = new T[context * _half];
        T baseValue = T.CreateChecked(theta);
        for (int i = 0; i < _half; i++)
        {
            T frequency = T.One / T.Pow(baseValue, T.CreateChecked(2 * i) / T.CreateChecked(headDim));
            for (int p = 0; p < context; p++)
            {
                T angle = T.CreateChecked(p) * frequency;
                _cos[(p * _half) + i] = T.Cos(angle);
                _sin[(p * _half) + i] = T.Sin(angle);
            }
        }
    }

    /// <summary>cos(p·ω_i) at [p·hd/2 + i], for a backend that rotates elsewhere (the CUDA trainer) with the same angles.</summary>
    internal ReadOnlySpan<T> CosineTable => _cos;

    /// <summary>sin(p·ω_i), laid out as <see cref="CosineTable"/>.</summary>
    internal ReadOnlySpan<T> SineTable => _sin;

    public void Forward(WorkerPool? pool, T[] x, int rows, int width) => Rotate(pool, x, rows, width, inverse: false);

    public void Backward(WorkerPool? pool, T[] dx, int rows, int width) => Rotate(pool, dx, rows, width, inverse: true);

    private void Rotate(WorkerPool? pool, T[] x, int rows, int width, bool inverse)
    {
        ParallelRanges.For(pool, rows, (start, end) =>
        {
            for (int r = start; r < end; r++)
            {
                int p = r % _context;
                var cos = _cos.AsSpan(p * _half, _half);
                var sin = _sin.AsSpan(p * _half, _half);
                for (int head = 0; head < width / _headDim; head++)
                {
                    var h = x.AsSpan((r * width) + (head * _headDim), _headDim);
                    for (int i = 0; i < _half; i++)
                    {
                        (int a, int b) = _halves ? (i, i + _half) : (2 * i, (2 * i) + 1);
                        T x0 = h[a], x1 = h[b], s = inverse ? -sin[i] : sin[i];
                        h[a] = (x0 * cos[i]) - (x1 * s);
                        h[b] = (x0 * s) + (x1 * cos[i]);
                    }
                }
            }
        });
    }
}
