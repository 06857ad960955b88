using System.Runtime.CompilerServices;
using Tern.Models;
using Tern.Text;

namespace Tern.Inference;

/// <summary>
/// Feeds a prompt to a session and yields the generated tokens with their text as they come, until the tokenizer's
/// end of generation, <c>maxTokens</c>, or the end of the context.
/// </summary>
public sealed class TextGenerator(Session session, GgufTokenizer tokenizer)
{
    public Session Session { get; } = session;

    public GgufTokenizer Tokenizer { get; } = tokenizer;

    /// <summary>Counts and times of the last generation, filled in as it runs.</summary>
    public GenerationStatistics Statistics { get; private set; } = new(0, TimeSpan.Zero, 0, TimeSpan.Zero);

    /// <summary>The prompt's tokens with BOS as the model's metadata asks, special tokens recognized.</summary>
    public int[] Tokenize(string prompt) => Tokenizer.Encode(prompt, Tokenizer.AddBos, parseSpecial: true);

    public IEnumerable<GeneratedToken> Generate(IReadOnlyList<int> prompt, int maxTokens, SamplingOptions sampling, CancellationToken cancellation = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxTokens);
        if (prompt.Count == 0)
            throw new ArgumentException("the prompt has no tokens", nameof(prompt));
        if (Session.Position + prompt.Count > Session.ContextLength)
            throw new ArgumentException($"the prompt is {prompt.Count} tokens; the context holds {Session.ContextLength - Session.Position} more");
        return GenerateIterator(prompt, maxTokens, new Sampler(sampling, Session.Model.Config.VocabSize), cancellation);
    }

    /// <summary>
    /// <see cref="Generate"/> without blocking the caller: each step (the prompt, then each token) computes for
    /// milliseconds to seconds, so it runs on the thread pool and the caller's thread (a UI, a request) stays free.
    /// </summary>
    public async IAsyncEnumerable<GeneratedToken> GenerateAsync(IReadOnlyList<int> prompt, int maxTokens, SamplingOptions sampling, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        using var steps = Generate(prompt, maxTokens, sampling, cancellation).GetEnumerator();
        while (await Task.Run(steps.MoveNext, cancellation).ConfigureAwait(false))
            yield return steps.Current;
    }

    /// <summary>
    /// The continuation of <paramref name="prompt"/> (tokenized as <see cref="Tokenize"/> does) as text, piece by piece
    /// as the tokens are generated; pieces are never empty and concatenate to the whole text.
    /// </summary>
    public async IAsyncEnumerable<string> GenerateTextAsync(string prompt, int maxTokens, SamplingOptions? sampling = null, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        var ids = Tokenize(prompt);
        if (ids.Length == 0)
            ids = [Tokenizer.BosId];
        await foreach (var token in GenerateAsync(ids, maxTokens, sampling ?? new SamplingOptions(), cancellation).ConfigureAwait(false))
        {
            if (token.Text.Length > 0)
                yield return token.Text;
        }
    }

    private IEnumerable<GeneratedToken> GenerateIterator(IReadOnlyList<int> prompt, int maxTokens, Sampler sampler, CancellationToken cancellation)
    {
        var history = new List<int>(prompt);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var last = new float[Session.Model.Config.VocabSize];
        // The decoder sees the prompt too, so the first generated piece keeps its leading space and a character
        // split across the prompt's end comes out whole.
        var decoder = Tokenizer.CreateStreamDecoder();
        var promptTokens = prompt as int[] ?? [.. prompt];
        for (int start = 0; start < promptTokens.Length; start += Transformer.ChunkTokens)
        {
            cancellation.ThrowIfCancellationRequested();
            var chunk = promptTokens.AsSpan(start, Math.Min(Transformer.ChunkTokens, promptTokens.Length - start));
            var logits = Session.Evaluate(chunk);
            if (start + chunk.Length == promptTokens.Length)
                logits.CopyTo(last);
        }

        foreach (int token in promptTokens)
            decoder.Append(token);

        var promptTime = clock.Elapsed;
        Statistics = new GenerationStatistics(prompt.Count, promptTime, 0, TimeSpan.Zero);
        // Greedy, the session picks each token after the first itself, and the logits need not reach the host.
        int? picked = null;
        for (int n = 0; n < maxTokens; n++)
        {
            cancellation.ThrowIfCancellationRequested();
            int next = picked ?? sampler.Sample(last, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(history));
            if (Tokenizer.IsEndOfGeneration(next))
                break;
            history.Add(next);
            string text = decoder.Append(next);
            if (Session.Position < Session.ContextLength)
            {
                if (sampler.IsGreedy)
                    picked = Session.EvaluateGreedy(next);
                else
                    Session.Evaluate(next).CopyTo(last);
            }

            Statistics = new GenerationStatistics(prompt.Count, promptTime, n + 1, clock.Elapsed - promptTime);
            yield return new GeneratedToken(next, text);
            if (Session.Position >= Session.ContextLength)
                break;
        }

        string rest = decoder.Flush();
        if (rest.Length > 0)
            yield return new GeneratedToken(-1, rest);
    }
}
