namespace Tern.Training.Data;

/// <summary>
/// The fixed windows that validation loss is measured on, so that numbers from different steps and runs compare:
/// the split cut into consecutive, non-overlapping windows of T inputs (window k starts at token k·T; its targets
/// run one token further, so every token after the first is predicted once). With a cap on the batches, the
/// windows used are spread evenly over the whole split instead of crowding its start. No randomness is involved.
/// </summary>
public sealed class ValidationWindows
{
    private readonly ReadOnlyMemory<int> _tokens;

    /// <param name="tokens">The split (<see cref="TextCorpus.Validation"/>); at least T + 1 tokens.</param>
    /// <param name="maxBatches">At most this many batches (nanoGPT's eval_iters); null uses every window.</param>
    public ValidationWindows(ReadOnlyMemory<int> tokens, int batchSize, int context, int? maxBatches = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(context, 1);
        if (maxBatches is { } cap)
            ArgumentOutOfRangeException.ThrowIfLessThan(cap, 1, nameof(maxBatches));
        if (tokens.Length < TextCorpus.TokensNeeded(context))
            throw new ArgumentException($"{tokens.Length} tokens hold no window of {context} inputs and their targets; {TextCorpus.TokensNeeded(context)} are needed", nameof(tokens));

        _tokens = tokens;
        BatchSize = batchSize;
        Context = context;
        AvailableWindows = (tokens.Length - 1) / context;
        WindowCount = maxBatches is { } max ? (int)Math.Min(AvailableWindows, (long)max * batchSize) : AvailableWindows;
    }

    public int BatchSize { get; }

    public int Context { get; }

    /// <summary>How many non-overlapping windows the split holds: (n − 1) / T.</summary>
    public int AvailableWindows { get; }

    /// <summary>How many windows are evaluated: all available ones, or the cap's worth.</summary>
    public int WindowCount { get; }

    /// <summary>Batches of <see cref="BatchSize"/> windows; the last one may hold fewer.</summary>
    public int BatchCount => (WindowCount + BatchSize - 1) / BatchSize;

    /// <summary>The token index at which window <paramref name="window"/> (0 ≤ window &lt; <see cref="WindowCount"/>) starts.</summary>
    public int WindowStart(int window)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(window);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(window, WindowCount);
        long slot = (long)window * AvailableWindows / WindowCount;
        return (int)(slot * Context);
    }

    /// <summary>Fills <paramref name="batch"/> with batch <paramref name="index"/>; <see cref="TokenBatch.Rows"/> says how many rows it got.</summary>
    public void Fill(int index, TokenBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, BatchCount);
        if (batch.BatchSize != BatchSize || batch.Context != Context)
            throw new ArgumentException($"the batch is {batch.BatchSize} × {batch.Context}; these windows come {BatchSize} × {Context}", nameof(batch));

        var tokens = _tokens.Span;
        int first = index * BatchSize;
        int rows = Math.Min(BatchSize, WindowCount - first);
        for (int row = 0; row < rows; row++)
        {
            int start = WindowStart(first + row);
            tokens.Slice(start, Context).CopyTo(batch.Inputs.AsSpan(row * Context, Context));
            tokens.Slice(start + 1, Context).CopyTo(batch.Targets.AsSpan(row * Context, Context));
        }

        batch.Rows = rows;
    }

    /// <summary>Every batch in order, each written into the same <paramref name="batch"/>: use one before asking for the next.</summary>
    public IEnumerable<TokenBatch> Batches(TokenBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        for (int i = 0; i < BatchCount; i++)
        {
            Fill(i, batch);
            yield return batch;
        }
    }
}
