using Tern.Inference.Placement;
using Tern.Models;

namespace Tern.Inference;

/// <summary>
/// One conversation: its KV cache and position. Not thread-safe; use one session per conversation. Dispose it when
/// the model computes on a device, whose cache for the session is device memory.
/// </summary>
public sealed class Session : IDisposable
{
    private readonly KvCache _cache;
    private readonly Transformer _transformer;
    private readonly IOffloadSession? _offload;

    internal Session(TernModel model, int contextLength)
    {
        Model = model;
        var device = model.Offload;
        _cache = new KvCache(model.Config, contextLength, device?.FirstLayer);
        _offload = device?.CreateSession(contextLength);
        _transformer = new Transformer(model.Config, model.Weights, contextLength, model.Pool, device, _offload);
    }

    public TernModel Model { get; }

    /// <summary>Tokens processed so far.</summary>
    public int Position { get; private set; }

    public int ContextLength => _cache.ContextLength;

    /// <summary>Feeds one token and returns the logits for the next (valid until the next call).</summary>
    public ReadOnlySpan<float> Evaluate(int token)
    {
        if (Position >= ContextLength)
            throw new InvalidOperationException($"the context of {ContextLength} tokens is full");
        var logits = _transformer.Forward(token, Position, _cache);
        Position++;
        return logits;
    }

    /// <summary>
    /// Feeds one token and returns the most likely next token, the lowest id on ties: <see cref="ArgMax"/> of what
    /// <see cref="Evaluate(int)"/> would return. The logits are not produced (a device that computes the head picks
    /// the token there and hands back only it), so greedy decoding does not wait for them to cross to the host.
    /// </summary>
    public int EvaluateGreedy(int token)
    {
        if (Position >= ContextLength)
            throw new InvalidOperationException($"the context of {ContextLength} tokens is full");
        int next = _transformer.ForwardGreedy(token, Position, _cache);
        Position++;
        return next;
    }

    /// <summary>
    /// Feeds several tokens (a prompt) and returns the logits after the last (valid until the next call). The tokens
    /// go through the model together, in chunks, which is much faster than one at a time and gives the same logits.
    /// </summary>
    public ReadOnlySpan<float> Evaluate(ReadOnlySpan<int> tokens)
    {
        if (tokens.IsEmpty)
            throw new ArgumentException("no tokens to evaluate", nameof(tokens));
        if (Position + tokens.Length > ContextLength)
            throw new InvalidOperationException($"{tokens.Length} tokens do not fit: the context of {ContextLength} tokens has {ContextLength - Position} left");
        var logits = _transformer.Forward(tokens, Position, _cache);
        Position += tokens.Length;
        return logits;
    }

    /// <summary>
    /// Feeds several tokens and hands the logits after each token from index <paramref name="firstLogits"/> on to
    /// <paramref name="onLogits"/>, in order (perplexity scores many positions of one pass).
    /// </summary>
    public void Evaluate(ReadOnlySpan<int> tokens, int firstLogits, LogitsHandler onLogits)
    {
        if (tokens.IsEmpty)
            throw new ArgumentException("no tokens to evaluate", nameof(tokens));
        if (Position + tokens.Length > ContextLength)
            throw new InvalidOperationException($"{tokens.Length} tokens do not fit: the context of {ContextLength} tokens has {ContextLength - Position} left");
        _transformer.Forward(tokens, Position, _cache, firstLogits, onLogits);
        Position += tokens.Length;
    }

    /// <summary>
    /// Greedy decoding: the most likely token, the lowest id on ties. A NaN is never picked, except that a NaN at
    /// id 0 stays the answer (no comparison with it is true); the GPU's argmax kernel gives the same answer.
    /// </summary>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
                best = i;
        }

        return best;
    }

    /// <summary>
    /// Forgets the tokens from <paramref name="position"/> on, so that a conversation continues from an earlier point
    /// (a chat that shares only a prefix with the last prompt); their keys and values are overwritten as tokens arrive.
    /// </summary>
    public void Rewind(int position)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(position, Position);
        Position = position;
    }

    /// <summary>Frees the session's device memory, if any.</summary>
    public void Dispose() => _offload?.Dispose();
}
