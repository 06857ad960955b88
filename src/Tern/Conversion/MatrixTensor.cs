using Tern.Formats;

namespace Tern.Conversion;

/// <summary>An in-memory float matrix [rows, cols] (llama2.c models are small enough to load whole) as ggml [cols, rows].</summary>
internal sealed class MatrixTensor(string name, FloatMatrix matrix, TensorRole role) : SourceTensor(name, [matrix.Cols, matrix.Rows], role)
{
    public override void ReadRows(long firstRow, int rowCount, Span<float> destination) =>
        matrix.Values.AsSpan((int)(firstRow * matrix.Cols), rowCount * matrix.Cols).CopyTo(destination);
}
