namespace Tern.Training.Data;

/// <summary>
/// Room for B rows of T input tokens and their targets, row-major (row b's token t at b·T + t), allocated once
/// and refilled by <see cref="BatchSampler"/> or <see cref="ValidationWindows"/>. Each target is the token that
/// follows its input in the text.
/// </summary>
public sealed class TokenBatch
{
    public TokenBatch(int batchSize, int context)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(context, 1);
        BatchSize = batchSize;
        Context = context;
        Inputs = new int[checked(batchSize * context)];
        Targets = new int[Inputs.Length];
        Rows = batchSize;
    }

    public int BatchSize { get; }

    public int Context { get; }

    public int[] Inputs { get; }

    public int[] Targets { get; }

    /// <summary>How many rows the last fill wrote: <see cref="BatchSize"/>, except for the last batch of validation
    /// windows, which may hold fewer; rows past it keep old tokens.</summary>
    public int Rows { get; internal set; }

    public ReadOnlySpan<int> InputRow(int row) => Inputs.AsSpan(CheckRow(row) * Context, Context);

    public ReadOnlySpan<int> TargetRow(int row) => Targets.AsSpan(CheckRow(row) * Context, Context);

    private int CheckRow(int row) =>
        (uint)row < (uint)Rows ? row : throw new ArgumentOutOfRangeException(nameof(row), row, $"the batch holds {Rows} rows");
}
