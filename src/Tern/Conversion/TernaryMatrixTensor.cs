using Tern.Formats;

namespace Tern.Conversion;

/// <summary>An in-memory ternary matrix with its scale, as an exactly ternary source tensor.</summary>
internal sealed class TernaryMatrixTensor(string name, TernaryMatrix matrix) : SourceTensor(name, [matrix.Cols, matrix.Rows], TensorRole.TernaryWeight)
{
    public override bool HasExactTernary => true;

    public override float TernaryScale => matrix.Scale;

    public override void ReadTernaryRows(long firstRow, int rowCount, Span<sbyte> destination) =>
        matrix.Values.AsSpan((int)(firstRow * matrix.Cols), rowCount * matrix.Cols).CopyTo(destination);

    public override void ReadRows(long firstRow, int rowCount, Span<float> destination)
    {
        var values = matrix.Values.AsSpan((int)(firstRow * matrix.Cols), rowCount * matrix.Cols);
        for (int i = 0; i < values.Length; i++)
            destination[i] = values[i] * matrix.Scale;
    }
}
