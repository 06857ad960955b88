namespace Tern.Conversion;

/// <summary>A 1-D tensor whose elements are reordered: element i is element <c>sourceIndex(i)</c> of the inner vector.</summary>
internal sealed class PermutedVector(SourceTensor inner, Func<long, long> sourceIndex) : SourceTensor(inner.Name, inner.Shape, inner.Role)
{
    public override void ReadRows(long firstRow, int rowCount, Span<float> destination)
    {
        if (Shape.Length != 1 || firstRow != 0 || rowCount != 1)
            throw new InvalidOperationException($"tensor '{Name}': a permuted vector is read whole");
        var source = new float[RowLength];
        inner.ReadRows(0, 1, source);
        for (int i = 0; i < source.Length; i++)
            destination[i] = source[sourceIndex(i)];
    }
}
