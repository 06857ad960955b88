using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Tern.Gguf;
using Tern.Runtime;

namespace Tern.Models;

/// <summary>
/// An F16 matrix read in place from the memory-mapped file (the 2B-4T head is 656 MB as F16, twice that as F32):
/// each row is widened to F32 in a small buffer and dotted. Widening F16 is exact, so the products equal those of
/// the same matrix decoded to F32 up front.
/// </summary>
public sealed class HalfWeightMatrix : WeightMatrix, IParallelWork
{
    private readonly GgufFile _file;
    private readonly GgufTensorInfo _tensor;
    private readonly float[] _x;
    private readonly float[] _y;
    // One row buffer per worker index; worker 0 is also the caller's when it computes alone.
    private float[][] _rowBuffers = [];

    public HalfWeightMatrix(GgufFile file, GgufTensorInfo tensor, int rows, int columns)
        : base(tensor.Name, rows, columns)
    {
        _file = file;
        _tensor = tensor;
        _x = new float[columns];
        _y = new float[rows];
    }

    private ReadOnlySpan<Half> HalfRow(int row) =>
        MemoryMarshal.Cast<byte, Half>(_file.GetTensorData(_tensor, (long)row * Columns * 2, Columns * 2));

    public override void CopyRow(int row, Span<float> destination) => TensorPrimitives.ConvertToSingle(HalfRow(row), destination);

    public override void Multiply(ReadOnlySpan<float> x, Span<float> y)
    {
        int workers = Parallel ? Pool!.Threads : 1;
        if (_rowBuffers.Length < workers)
            _rowBuffers = Enumerable.Range(0, workers).Select(_ => new float[Columns]).ToArray();
        if (!Parallel)
        {
            DotRows(x, y, 0, Rows, _rowBuffers[0]);
            return;
        }

        x.CopyTo(_x);
        Pool!.Run(this);
        _y.CopyTo(y);
    }

    void IParallelWork.Execute(int worker, int workers)
    {
        var (start, end) = WorkerPool.Split(Rows, worker, workers);
        DotRows(_x, _y, start, end, _rowBuffers[worker]);
    }

    private void DotRows(ReadOnlySpan<float> x, Span<float> y, int start, int end, float[] buffer)
    {
        for (int r = start; r < end; r++)
        {
            TensorPrimitives.ConvertToSingle(HalfRow(r), buffer);
            y[r] = TensorPrimitives.Dot(buffer, x);
        }
    }
}
