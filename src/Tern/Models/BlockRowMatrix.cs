namespace Tern.Models;

/// <summary>
/// A matrix computed from its stored bytes (in the map or in memory) a chunk of rows at a time, so a kernel sees
/// several consecutive rows per call and no span ever covers a whole tensor (which may exceed 2 GiB).
/// </summary>
public abstract class BlockRowMatrix(string name, int rows, int columns, MatrixBytes bytes) : RowParallelMatrix(name, rows, columns)
{
    /// <summary>A multiple of every kernel's rows per step.</summary>
    private const int RowsPerChunk = 64;

    public MatrixBytes Bytes { get; } = bytes;

    /// <summary>y = W·x for the rows in <paramref name="rows"/> (input already prepared by <see cref="RowParallelMatrix.PrepareInput"/>).</summary>
    protected abstract void ComputeChunk(ReadOnlySpan<float> x, ReadOnlySpan<byte> rows, Span<float> y);

    protected override void ComputeRows(ReadOnlySpan<float> x, Span<float> y, int start, int end, int worker)
    {
        for (int r = start; r < end; r += RowsPerChunk)
        {
            int count = Math.Min(RowsPerChunk, end - r);
            ComputeChunk(x, Bytes.Rows(r, count), y.Slice(r, count));
        }
    }
}
