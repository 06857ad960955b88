namespace Tern.Conversion;

/// <summary>The same data under another name and role (token_embd.weight written again as output.weight by --untie).</summary>
internal sealed class RenamedTensor(SourceTensor inner, string name, TensorRole role) : SourceTensor(name, inner.Shape, role)
{
    public override void ReadRows(long firstRow, int rowCount, Span<float> destination) => inner.ReadRows(firstRow, rowCount, destination);
}
