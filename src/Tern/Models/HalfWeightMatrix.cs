using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Tern.Gguf;

namespace Tern.Models;

/// <summary>
/// An F16 matrix read in place from the memory-mapped file (the 2B-4T head is 656 MB as F16, twice that as F32):
/// each row is widened to F32 in a small buffer and dotted. Widening F16 is exact, so the products equal those of
/// the same matrix decoded to F32 up front.
/// </summary>
public sealed class HalfWeightMatrix(GgufFile file, GgufTensorInfo tensor, int rows, int columns) : RowParallelMatrix(tensor.Name, rows, columns)
{
    // One row buffer per worker index; worker 0 is also the caller's when it computes alone.
    private float[][] _rowBuffers = [];

    private ReadOnlySpan<Half> HalfRow(int row) =>
        MemoryMarshal.Cast<byte, Half>(file.GetTensorData(tensor, (long)row * Columns * 2, Columns * 2));

    public override void CopyRow(int row, Span<float> destination) => TensorPrimitives.ConvertToSingle(HalfRow(row), destination);

    protected override void PrepareWorkers(int workers)
    {
        if (_rowBuffers.Length < workers)
            _rowBuffers = Enumerable.Range(0, workers).Select(_ => new float[Columns]).ToArray();
    }

    protected override void ComputeRows(ReadOnlySpan<float> x, Span<float> y, int start, int end, int worker)
    {
        var buffer = _rowBuffers[worker];
        for (int r = start; r < end; r++)
        {
            TensorPrimitives.ConvertToSingle(HalfRow(r), buffer);
            y[r] = TensorPrimitives.Dot(buffer, x);
        }
    }
}
