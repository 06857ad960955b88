namespace Tern.Conversion;

/// <summary>A small tensor computed by the converter (rope_freqs, constant norm weights), held in memory.</summary>
internal sealed class ComputedTensor(string name, long[] shape, float[] values, TensorRole role = TensorRole.Float32) : SourceTensor(name, shape, role)
{
    public override void ReadRows(long firstRow, int rowCount, Span<float> destination) =>
        values.AsSpan((int)(firstRow * RowLength), (int)(rowCount * RowLength)).CopyTo(destination);
}
