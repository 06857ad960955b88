namespace Tern.Training.Data;

/// <summary>
/// Vigna's SplitMix64: a 64-bit state advanced by a fixed odd constant and mixed into each output. Written out
/// here because <see cref="Random"/> promises no sequence across .NET versions, and a resumed training run must
/// draw the same batches as the run it continues. The whole state is <see cref="State"/>, one number to save.
/// </summary>
public struct SplitMix64(ulong state)
{
    private const ulong Increment = 0x9E3779B97F4A7C15;

    /// <summary>Everything the generator needs to continue its sequence.</summary>
    public ulong State { readonly get; set; } = state;

    public ulong NextUInt64()
    {
        State += Increment;
        ulong z = State;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }

    /// <summary>
    /// A uniform integer in [0, <paramref name="bound"/>), without modulo bias: Lemire's multiply-and-shift, drawing
    /// again in the rare case that lands in the uneven remainder. Integer arithmetic only, so every platform agrees.
    /// </summary>
    public ulong NextBelow(ulong bound)
    {
        ArgumentOutOfRangeException.ThrowIfZero(bound);
        ulong high = Math.BigMul(NextUInt64(), bound, out ulong low);
        if (low < bound)
        {
            ulong threshold = (0 - bound) % bound;
            while (low < threshold)
                high = Math.BigMul(NextUInt64(), bound, out low);
        }

        return high;
    }
}
