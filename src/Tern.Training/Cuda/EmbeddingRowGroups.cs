namespace Tern.Training.Cuda;

/// <summary>
/// A batch's rows grouped by the token they read, for the embedding gradient's scatter-add: the token ids that occur
/// (increasing), where each one's rows start in <see cref="RowOrder"/>, and the rows themselves, increasing within a
/// group. Built on the host by a counting sort (the tokens are there anyway), so the device adds each group in a fixed
/// order with one writer per embedding row.
/// </summary>
internal sealed class EmbeddingRowGroups(int vocabularySize, int rowCapacity)
{
    private readonly int[] _counts = new int[vocabularySize];

    public int[] RowOrder { get; } = new int[rowCapacity];

    /// <summary>Group g's rows are RowOrder[GroupStarts[g] .. GroupStarts[g + 1]).</summary>
    public int[] GroupStarts { get; } = new int[rowCapacity + 1];

    public int[] GroupTokens { get; } = new int[rowCapacity];

    public int GroupCount { get; private set; }

    public void Build(ReadOnlySpan<int> tokens)
    {
        Array.Clear(_counts);
        foreach (int token in tokens)
            _counts[token]++;
        int groups = 0, position = 0;
        for (int token = 0; token < _counts.Length; token++)
        {
            int count = _counts[token];
            if (count == 0)
                continue;
            GroupTokens[groups] = token;
            GroupStarts[groups] = position;
            // From here on, _counts[token] is where the token's next row goes.
            _counts[token] = position;
            position += count;
            groups++;
        }

        GroupStarts[groups] = position;
        GroupCount = groups;
        for (int row = 0; row < tokens.Length; row++)
            RowOrder[_counts[tokens[row]]++] = row;
    }
}
