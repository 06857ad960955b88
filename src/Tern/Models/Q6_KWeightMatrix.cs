using Tern.Kernels;
using Tern.Quantization;

namespace Tern.Models;

/// <summary>
/// A Q6_K matrix computed where it is stored, as llama.cpp computes it: the input is quantized to Q8_K once per
/// product and every super-block's dot product is an integer (<see cref="Q6_KDot"/>).
/// </summary>
public sealed class Q6_KWeightMatrix : BlockRowMatrix
{
    private readonly sbyte[] _values;
    private readonly float[] _scales;
    private readonly short[] _sums;

    public Q6_KWeightMatrix(string name, int rows, int columns, MatrixBytes bytes)
        : base(name, rows, columns, bytes)
    {
        if (columns % Q6_KFormat.BlockSize != 0)
            throw new ArgumentException($"tensor '{name}': {columns} columns are not whole Q6_K super-blocks of {Q6_KFormat.BlockSize}");
        _values = new sbyte[columns];
        _scales = new float[columns / Q8_KActivations.BlockSize];
        _sums = new short[columns / Q8_KActivations.SumGroup];
    }

    public override void CopyRow(int row, Span<float> destination) => Q6_KFormat.Decode(Bytes.Rows(row, 1), destination);

    protected override void PrepareInput(ReadOnlySpan<float> x) => Q8_KActivations.Quantize(x, _values, _scales, _sums);

    protected override void ComputeChunk(ReadOnlySpan<float> x, ReadOnlySpan<byte> rows, Span<float> y) =>
        Q6_KDot.Rows(rows, _values, _scales, _sums, y);
}
