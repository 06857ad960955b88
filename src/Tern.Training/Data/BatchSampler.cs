namespace Tern.Training.Data;

/// <summary>
/// Training batches as nanoGPT draws them: each row is a window of T tokens starting anywhere in the split,
/// uniformly in [0, n − T − 1], and its targets are the same window moved on by one token. The draws come from
/// <see cref="SplitMix64"/>, so a seed gives the same batches on every machine and .NET version, and a run resumed
/// with the saved <see cref="State"/> continues the sequence exactly.
/// </summary>
public sealed class BatchSampler
{
    private readonly ReadOnlyMemory<int> _tokens;
    private SplitMix64 _random;

    /// <param name="tokens">The split to draw from (<see cref="TextCorpus.Train"/>); at least T + 1 tokens.</param>
    public BatchSampler(ReadOnlyMemory<int> tokens, int batchSize, int context, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(context, 1);
        if (tokens.Length < TextCorpus.TokensNeeded(context))
            throw new ArgumentException($"{tokens.Length} tokens hold no window of {context} inputs and their targets; {TextCorpus.TokensNeeded(context)} are needed", nameof(tokens));
        _tokens = tokens;
        BatchSize = batchSize;
        Context = context;
        _random = new SplitMix64(seed);
    }

    public int BatchSize { get; }

    public int Context { get; }

    /// <summary>The generator's state after the batches drawn so far: save it with a checkpoint, set it on resume.</summary>
    public ulong State
    {
        get => _random.State;
        set => _random.State = value;
    }

    /// <summary>How many different windows a row can get: n − T.</summary>
    public int WindowCount => _tokens.Length - Context;

    /// <summary>Draws the next batch into <paramref name="batch"/> (all of its rows).</summary>
    public void Next(TokenBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        CheckShape(batch.BatchSize, batch.Context);
        Next(batch.Inputs, batch.Targets);
        batch.Rows = BatchSize;
    }

    /// <summary>Draws the next batch into row-major B × T spans, for a trainer that keeps tokens in its own buffers.</summary>
    public void Next(Span<int> inputs, Span<int> targets)
    {
        int length = BatchSize * Context;
        if (inputs.Length < length || targets.Length < length)
            throw new ArgumentException($"a batch of {BatchSize} × {Context} needs {length} inputs and targets; got {inputs.Length} and {targets.Length}");

        var tokens = _tokens.Span;
        for (int row = 0; row < BatchSize; row++)
        {
            int start = (int)_random.NextBelow((ulong)WindowCount);
            tokens.Slice(start, Context).CopyTo(inputs.Slice(row * Context, Context));
            tokens.Slice(start + 1, Context).CopyTo(targets.Slice(row * Context, Context));
        }
    }

    private void CheckShape(int batchSize, int context)
    {
        if (batchSize != BatchSize || context != Context)
            throw new ArgumentException($"the batch is {batchSize} × {context}; this sampler draws {BatchSize} × {Context}");
    }
}
