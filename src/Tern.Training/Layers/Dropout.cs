using System.Numerics;
using Tern.Runtime;
using Tern.Training.Randomness;

namespace Tern.Training.Layers;

/// <summary>
/// Inverted dropout whose mask is a hash of (key, element index): the forward pass and the backward pass apply the
/// same mask without storing it, and the mask does not depend on the thread count.
/// </summary>
public static class Dropout
{
    /// <summary>x ← x ⊙ mask / (1 − p), in place; used for activations and for their gradients alike.</summary>
    public static void Apply<T>(WorkerPool? pool, T[] x, int count, double probability, ulong key)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (probability <= 0)
            return;
        T keep = T.CreateChecked(1.0 / (1.0 - probability));
        ParallelRanges.For(pool, count, (start, end) =>
        {
            for (int i = start; i < end; i++)
                x[i] = Keeps(key, i, probability) ? x[i] * keep : T.Zero;
        });
    }

    public static bool Keeps(ulong key, int index, double probability) => CounterHash.Uniform(key, (ulong)index) >= probability;
}
