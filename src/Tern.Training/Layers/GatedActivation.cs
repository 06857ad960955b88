using System.Numerics;
using Tern.Runtime;

namespace Tern.Training.Layers;

/// <summary>m = act(g) ⊙ u with act = relu(g)² (BitNet b1.58) or silu(g) = g·σ(g) (LLaMA).</summary>
public static class GatedActivation
{
    public static void Forward<T>(WorkerPool? pool, bool reluSquared, T[] gate, T[] up, int count, T[] output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ParallelRanges.For(pool, count, (start, end) =>
        {
            for (int i = start; i < end; i++)
                output[i] = Activate(reluSquared, gate[i]) * up[i];
        });
    }

    /// <summary>dg = dm ⊙ u ⊙ act′(g), du = dm ⊙ act(g) (both written).</summary>
    public static void Backward<T>(WorkerPool? pool, bool reluSquared, T[] gate, T[] up, T[] dOutput, int count, T[] dGate, T[] dUp)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ParallelRanges.For(pool, count, (start, end) =>
        {
            for (int i = start; i < end; i++)
            {
                T g = gate[i], dm = dOutput[i];
                T derivative;
                if (reluSquared)
                {
                    derivative = T.CreateChecked(2) * T.Max(g, T.Zero);
                }
                else
                {
                    T sigmoid = T.One / (T.One + T.Exp(-g));
                    derivative = sigmoid * (T.One + (g * (T.One - sigmoid)));
                }

                dGate[i] = dm * up[i] * derivative;
                dUp[i] = dm * Activate(reluSquared, g);
            }
        });
    }

    private static T Activate<T>(bool reluSquared, T g)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (reluSquared)
        {
            T r = T.Max(g, T.Zero);
            return r * r;
        }

        return g / (T.One + T.Exp(-g));
    }
}
