using Tern.Text;

namespace Tern.Inference;

/// <summary>The result of <see cref="Perplexity.Compute"/>: exp(mean NLL) and its standard error, as llama.cpp reports them.</summary>
public sealed record PerplexityResult(double Value, double StandardError, int Chunks, int ScoredTokens);

/// <summary>
/// Chunked perplexity exactly as llama.cpp's tools/perplexity computes it: the whole text is tokenized with BOS, cut
/// into chunks of the context length, each chunk starts with BOS in a fresh context, and only the second half of
/// each chunk is scored (tokens n_ctx/2 + 1 … n_ctx − 1, each predicted from everything before it in the chunk).
/// </summary>
public static class Perplexity
{
    public static PerplexityResult Compute(TernModel model, GgufTokenizer tokenizer, string text, int context, int? maxChunks = null, Action<int, double>? onChunk = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(context, 4);
        var tokens = tokenizer.Encode(text, tokenizer.AddBos);
        if (tokens.Length < 2 * context)
            throw new ArgumentException($"the text is {tokens.Length} tokens; perplexity with a context of {context} needs at least {2 * context}");
        int chunks = tokens.Length / context;
        if (maxChunks is { } m)
            chunks = Math.Min(chunks, m);

        int first = context / 2;
        double nll = 0, nll2 = 0;
        int count = 0;
        // One session for every chunk, rewound to the start for each: a fresh context, without allocating its cache
        // (device memory when the model computes on a GPU) once per chunk.
        using var session = model.CreateSession(context);
        for (int c = 0; c < chunks; c++)
        {
            session.Rewind(0);
            int start = c * context;
            var input = tokens.AsSpan(start, context - 1).ToArray();
            if (tokenizer.AddBos)
                input[0] = tokenizer.BosId;
            session.Evaluate(input, first, (p, logits) =>
            {
                double v = -LogSoftmax(logits, tokens[start + p + 1]);
                nll += v;
                nll2 += v * v;
                count++;
            });
            onChunk?.Invoke(c + 1, Math.Exp(nll / count));
        }

        double mean = nll / count, variance = (nll2 / count) - (mean * mean);
        double ppl = Math.Exp(mean);
        double error = variance > 0 && count > 1 ? Math.Sqrt(variance / (count - 1)) * ppl : 0;
        return new PerplexityResult(ppl, error, chunks, count);
    }

    /// <summary>log softmax(logits)[token], in double as llama.cpp does.</summary>
    private static double LogSoftmax(ReadOnlySpan<float> logits, int token)
    {
        float max = logits[0];
        foreach (float l in logits)
            max = Math.Max(max, l);
        double sum = 0;
        foreach (float l in logits)
            sum += Math.Exp(l - max);
        return logits[token] - max - Math.Log(sum);
    }
}
