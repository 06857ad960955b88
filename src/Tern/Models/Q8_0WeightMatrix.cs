using Tern.Kernels;
using Tern.Quantization;

namespace Tern.Models;

/// <summary>
/// A Q8_0 matrix computed where it is stored, as llama.cpp computes it: the input is quantized to Q8_0 once per
/// product and every block's dot product is an integer (<see cref="Q8_0Dot"/>).
/// </summary>
public sealed class Q8_0WeightMatrix : BlockRowMatrix
{
    private readonly sbyte[] _values;
    private readonly float[] _scales;

    public Q8_0WeightMatrix(string name, int rows, int columns, MatrixBytes bytes)
        : base(name, rows, columns, bytes)
    {
        if (columns % Q8_0Format.BlockSize != 0)
            throw new ArgumentException($"tensor '{name}': {columns} columns are not whole Q8_0 blocks of {Q8_0Format.BlockSize}");
        _values = new sbyte[columns];
        _scales = new float[columns / Q8_0Format.BlockSize];
    }

    public override void CopyRow(int row, Span<float> destination) => Q8_0Format.Decode(Bytes.Rows(row, 1), destination);

    protected override void PrepareInput(ReadOnlySpan<float> x) => Q8_0Activations.Quantize(x, _values, _scales);

    protected override void ComputeChunk(ReadOnlySpan<float> x, ReadOnlySpan<byte> rows, Span<float> y) =>
        Q8_0Dot.Rows(rows, _values, _scales, y);
}
