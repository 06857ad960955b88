namespace Tern.Training.Randomness;

/// <summary>
/// SplitMix64's output function as a counter-based generator: the value for (key, counter) needs no state, so a
/// dropout mask can be recomputed in the backward pass instead of stored, by any thread, in any order, and gives the
/// same bits on every platform and .NET version.
/// </summary>
public static class CounterHash
{
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public static ulong Hash(ulong key, ulong counter) => Mix(key + ((counter + 1) * 0x9E3779B97F4A7C15UL));

    /// <summary>A key for a sub-stream (a step, a layer, a dropout site) derived from a parent key.</summary>
    public static ulong Derive(ulong key, ulong stream) => Mix(key ^ Mix(stream + 0x632BE59BD9B4E019UL));

    /// <summary>A uniform double in [0, 1) from the top 53 bits.</summary>
    public static double Uniform(ulong key, ulong counter) => (Hash(key, counter) >> 11) * (1.0 / (1UL << 53));
}
