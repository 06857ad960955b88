namespace Tern.Conversion;

/// <summary>A tensor whose rows are read in another order: row i of this tensor is row <c>sourceRow(i)</c> of the inner one.</summary>
internal sealed class RowPermutedTensor(SourceTensor inner, Func<long, long> sourceRow) : SourceTensor(inner.Name, inner.Shape, inner.Role)
{
    public override bool HasExactTernary => inner.HasExactTernary;

    public override float TernaryScale => inner.TernaryScale;

    public override void ReadRows(long firstRow, int rowCount, Span<float> destination)
    {
        int length = (int)RowLength;
        for (int i = 0; i < rowCount; i++)
            inner.ReadRows(sourceRow(firstRow + i), 1, destination.Slice(i * length, length));
    }

    public override void ReadTernaryRows(long firstRow, int rowCount, Span<sbyte> destination)
    {
        int length = (int)RowLength;
        for (int i = 0; i < rowCount; i++)
            inner.ReadTernaryRows(sourceRow(firstRow + i), 1, destination.Slice(i * length, length));
    }
}
