using System.Numerics;
using Tern.Training.Randomness;

namespace Tern.Training.Layers;

/// <summary>
/// Dropout on one layer's attention probabilities (docs/training.md): the softmax weight P[b, h, i, j] of query i and
/// key j ≤ i is kept when <c>Uniform(Key, ((b·H + h)·T + i)·T + j) ≥ p</c>, the counter being the weight's index in
/// [batch, H, T, T], and then scaled by 1 / (1 − p). <see cref="Key"/> is the layer's key, derived from the step's
/// dropout key like the other dropout sites'. The default (p = 0) keeps every weight with factor 1, exactly.
/// </summary>
public readonly record struct AttentionDropout(double Probability, ulong Key)
{
    public bool IsOn => Probability > 0;

    /// <summary>The counter of weight (b, h, i, j): its index in [batch, H, T, T].</summary>
    public static ulong Counter(int sequence, int head, int query, int key, int heads, int context) =>
        ((((((ulong)sequence * (ulong)heads) + (ulong)head) * (ulong)context) + (ulong)query) * (ulong)context) + (ulong)key;

    public bool Keeps(ulong counter) => !IsOn || CounterHash.Uniform(Key, counter) >= Probability;

    /// <summary>What the weight at <paramref name="counter"/> is multiplied by: <paramref name="keepScale"/> (1 / (1 − p))
    /// where the mask keeps it, 0 where it drops it; 1 when dropout is off, so that multiplying by it changes nothing.</summary>
    public T Factor<T>(ulong counter, T keepScale)
        where T : IFloatingPointIeee754<T> =>
        !IsOn ? T.One : Keeps(counter) ? keepScale : T.Zero;

    /// <summary>1 / (1 − p) in <typeparamref name="T"/>.</summary>
    public T KeepScale<T>()
        where T : IFloatingPointIeee754<T> => T.CreateChecked(1.0 / (1.0 - Probability));
}
