namespace Tern.Inference;

/// <summary>
/// Picks the next token from logits in llama.cpp's order: repetition penalty, top-k, top-p, min-p, temperature,
/// then a seeded draw (or the argmax at temperature 0). Buffers are allocated once per sampler, not per token.
/// </summary>
public sealed class Sampler
{
    private readonly SamplingOptions _options;
    private readonly Random _random;
    private readonly float[] _logits;
    private readonly int[] _candidates;
    private readonly float[] _probabilities;

    public Sampler(SamplingOptions options, int vocabularySize)
    {
        options.Validate();
        _options = options;
        _random = new Random(options.Seed);
        _logits = new float[vocabularySize];
        _candidates = new int[vocabularySize];
        _probabilities = new float[vocabularySize];
    }

    /// <summary>
    /// Whether <see cref="Sample"/> is <see cref="Session.ArgMax"/> of the logits as they come (temperature 0, no
    /// repetition penalty), so that the session may pick the token itself (<see cref="Session.EvaluateGreedy"/>).
    /// </summary>
    public bool IsGreedy => _options.Temperature == 0 && !PenalizesRepetition;

    private bool PenalizesRepetition => _options.RepeatPenalty != 1f && _options.RepeatLastN > 0;

    /// <summary>The next token; <paramref name="recent"/> are the tokens seen so far (for the repetition penalty).</summary>
    public int Sample(ReadOnlySpan<float> logits, ReadOnlySpan<int> recent = default)
    {
        var o = _options;
        var l = _logits.AsSpan(0, logits.Length);
        logits.CopyTo(l);
        if (PenalizesRepetition)
        {
            foreach (int t in recent[Math.Max(0, recent.Length - o.RepeatLastN)..])
                l[t] = l[t] > 0 ? l[t] / o.RepeatPenalty : l[t] * o.RepeatPenalty;
        }

        if (o.Temperature == 0)
            return Session.ArgMax(l);

        // Candidates sorted by logit, most likely first; ties keep the lower id first, so runs are reproducible.
        int n = l.Length;
        var c = _candidates.AsSpan(0, n);
        for (int i = 0; i < n; i++)
            c[i] = i;
        var keys = _probabilities.AsSpan(0, n);
        for (int i = 0; i < n; i++)
            keys[i] = -l[i];
        keys.Sort(c);
        if (o.TopK > 0)
            n = Math.Min(n, o.TopK);

        n = KeepTopP(l, c, n, o.TopP);
        n = KeepMinP(l, c, n, o.MinP);

        var p = _probabilities.AsSpan(0, n);
        float max = l[c[0]];
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            p[i] = MathF.Exp((l[c[i]] - max) / o.Temperature);
            sum += p[i];
        }

        double r = _random.NextDouble() * sum;
        for (int i = 0; i < n; i++)
        {
            r -= p[i];
            if (r <= 0)
                return c[i];
        }

        return c[n - 1];
    }

    private int KeepTopP(ReadOnlySpan<float> l, ReadOnlySpan<int> c, int n, float topP)
    {
        if (topP >= 1f)
            return n;
        var p = _probabilities.AsSpan(0, n);
        double sum = Softmax(l, c, p);
        double cumulative = 0;
        for (int i = 0; i < n; i++)
        {
            cumulative += p[i] / sum;
            if (cumulative >= topP)
                return i + 1;
        }

        return n;
    }

    private int KeepMinP(ReadOnlySpan<float> l, ReadOnlySpan<int> c, int n, float minP)
    {
        if (minP <= 0f)
            return n;
        // p_i ≥ minP · p_max ⇔ logit_i ≥ logit_max + ln(minP); always keeps the most likely token.
        float threshold = l[c[0]] + MathF.Log(minP);
        int kept = 1;
        while (kept < n && l[c[kept]] >= threshold)
            kept++;
        return kept;
    }

    private static double Softmax(ReadOnlySpan<float> l, ReadOnlySpan<int> c, Span<float> p)
    {
        float max = l[c[0]];
        double sum = 0;
        for (int i = 0; i < p.Length; i++)
        {
            p[i] = MathF.Exp(l[c[i]] - max);
            sum += p[i];
        }

        return sum;
    }
}
