namespace Tern.Conversion;

/// <summary>
/// Stores a tied output head once: BitNet 2B-4T's checkpoint carries an lm_head identical to the embedding
/// (ik_llama.cpp PR #338), which would double the size of the file for nothing. --untie keeps or makes both.
/// </summary>
internal static class TiedEmbeddings
{
    public const string Embedding = "token_embd.weight";
    public const string Output = "output.weight";

    public static List<SourceTensor> Resolve(IReadOnlyList<SourceTensor> tensors, bool untie, List<string> notes)
    {
        var list = tensors.ToList();
        var embedding = list.FirstOrDefault(t => t.Name == Embedding);
        int outputIndex = list.FindIndex(t => t.Name == Output);
        if (embedding is null)
            return list;

        if (outputIndex < 0)
        {
            if (untie)
            {
                list.Add(new RenamedTensor(embedding, Output, TensorRole.Output));
                notes.Add("--untie: output.weight written as a copy of token_embd.weight");
            }

            return list;
        }

        if (!untie && SameData(embedding, list[outputIndex]))
        {
            list.RemoveAt(outputIndex);
            notes.Add("output.weight equals token_embd.weight: stored once (tied); pass --untie to keep both");
        }

        return list;
    }

    private static bool SameData(SourceTensor a, SourceTensor b)
    {
        if (!a.Shape.SequenceEqual(b.Shape))
            return false;
        int rows = (int)Math.Clamp((1L << 20) / a.RowLength, 1, a.RowCount);
        var x = new float[rows * a.RowLength];
        var y = new float[x.Length];
        for (long r = 0; r < a.RowCount; r += rows)
        {
            int n = (int)Math.Min(rows, a.RowCount - r);
            int count = (int)(n * a.RowLength);
            a.ReadRows(r, n, x.AsSpan(0, count));
            b.ReadRows(r, n, y.AsSpan(0, count));
            if (!x.AsSpan(0, count).SequenceEqual(y.AsSpan(0, count)))
                return false;
        }

        return true;
    }
}
