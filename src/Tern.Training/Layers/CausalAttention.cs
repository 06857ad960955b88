using System.Numerics;
using System.Numerics.Tensors;
using Tern.Runtime;

namespace Tern.Training.Layers;

/// <summary>
/// Causal multi-head attention with grouped key/value heads over rows laid out [batch, T]: q [rows, H·hd],
/// k and v [rows, Hkv·hd], the softmax weights kept as [batch, H, T, T] for the backward pass. One work item is a
/// (sequence, key/value head) pair with all its query heads, so the key and value gradients have one writer.
/// With <see cref="AttentionDropout"/> on, the output reads the dropped weights P ⊙ M / (1 − p); the kept weights stay
/// undropped, and the backward pass recomputes the mask from its key.
/// </summary>
public sealed class CausalAttention<T>(int heads, int kvHeads, int headDim, int context)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T _scale = T.One / T.Sqrt(T.CreateChecked(headDim));

    public int ProbabilityLength(int batch) => batch * heads * context * context;

    public void Forward(WorkerPool? pool, int batch, T[] q, T[] k, T[] v, T[] probabilities, T[] output, AttentionDropout dropout = default)
    {
        T keepScale = dropout.KeepScale<T>();
        int qWidth = heads * headDim, kvWidth = kvHeads * headDim, group = heads / kvHeads;
        ParallelRanges.For(pool, batch * kvHeads, (start, end) =>
        {
            for (int item = start; item < end; item++)
            {
                int b = item / kvHeads, g = item % kvHeads;
                for (int h = g * group; h < (g + 1) * group; h++)
                {
                    for (int t = 0; t < context; t++)
                    {
                        int row = (b * context) + t;
                        var qt = q.AsSpan((row * qWidth) + (h * headDim), headDim);
                        var p = probabilities.AsSpan(((((b * heads) + h) * context) + t) * context, t + 1);
                        T max = T.NegativeInfinity;
                        for (int j = 0; j <= t; j++)
                        {
                            T score = TensorPrimitives.Dot<T>(qt, k.AsSpan((((b * context) + j) * kvWidth) + (g * headDim), headDim)) * _scale;
                            p[j] = score;
                            max = T.Max(max, score);
                        }

                        T sum = T.Zero;
                        for (int j = 0; j <= t; j++)
                        {
                            p[j] = T.Exp(p[j] - max);
                            sum += p[j];
                        }

                        T inverse = T.One / sum;
                        var o = output.AsSpan((row * qWidth) + (h * headDim), headDim);
                        o.Clear();
                        ulong counter = AttentionDropout.Counter(b, h, t, 0, heads, context);
                        for (int j = 0; j <= t; j++)
                        {
                            p[j] *= inverse;
                            T weight = p[j] * dropout.Factor(counter + (ulong)j, keepScale);
                            TensorPrimitives.MultiplyAdd<T>(v.AsSpan((((b * context) + j) * kvWidth) + (g * headDim), headDim), weight, o, o);
                        }
                    }
                }
            }
        });
    }

    /// <summary>dq is written; dk and dv are written (not added). <paramref name="dropout"/> must be the forward pass's.
    /// With the mask M scaled by 1 / (1 − p): dV = (P ⊙ M)ᵀ·dO, dP = (dO·Vᵀ) ⊙ M, dS = P ⊙ (dP − Σ P ⊙ dP).</summary>
    public void Backward(WorkerPool? pool, int batch, T[] q, T[] k, T[] v, T[] probabilities, T[] dOutput, T[] dq, T[] dk, T[] dv,
        AttentionDropout dropout = default)
    {
        T keepScale = dropout.KeepScale<T>();
        int qWidth = heads * headDim, kvWidth = kvHeads * headDim, group = heads / kvHeads;
        ParallelRanges.For(pool, batch * kvHeads, (start, end) =>
        {
            var dp = new T[context];
            for (int item = start; item < end; item++)
            {
                int b = item / kvHeads, g = item % kvHeads;
                for (int t = 0; t < context; t++)
                {
                    int row = (b * context) + t;
                    dk.AsSpan((row * kvWidth) + (g * headDim), headDim).Clear();
                    dv.AsSpan((row * kvWidth) + (g * headDim), headDim).Clear();
                }

                for (int h = g * group; h < (g + 1) * group; h++)
                {
                    for (int t = 0; t < context; t++)
                    {
                        int row = (b * context) + t;
                        var qt = q.AsSpan((row * qWidth) + (h * headDim), headDim);
                        var dqt = dq.AsSpan((row * qWidth) + (h * headDim), headDim);
                        var dot = dOutput.AsSpan((row * qWidth) + (h * headDim), headDim);
                        var p = probabilities.AsSpan(((((b * heads) + h) * context) + t) * context, t + 1);
                        ulong counter = AttentionDropout.Counter(b, h, t, 0, heads, context);
                        T weighted = T.Zero;
                        for (int j = 0; j <= t; j++)
                        {
                            int kv = (((b * context) + j) * kvWidth) + (g * headDim);
                            T factor = dropout.Factor(counter + (ulong)j, keepScale);
                            dp[j] = TensorPrimitives.Dot<T>(dot, v.AsSpan(kv, headDim)) * factor;
                            weighted += p[j] * dp[j];
                            var dvj = dv.AsSpan(kv, headDim);
                            TensorPrimitives.MultiplyAdd<T>(dot, p[j] * factor, dvj, dvj);
                        }

                        dqt.Clear();
                        for (int j = 0; j <= t; j++)
                        {
                            int kv = (((b * context) + j) * kvWidth) + (g * headDim);
                            T dScore = p[j] * (dp[j] - weighted) * _scale;
                            TensorPrimitives.MultiplyAdd<T>(k.AsSpan(kv, headDim), dScore, dqt, dqt);
                            var dkj = dk.AsSpan(kv, headDim);
                            TensorPrimitives.MultiplyAdd<T>(qt, dScore, dkj, dkj);
                        }
                    }
                }
            }
        });
    }
}
