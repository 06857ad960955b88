using System.Runtime.InteropServices;
using Tern.Kernels;
using Tern.Quantization;

namespace Tern.Models;

/// <summary>A BF16 matrix computed where it is stored, widened in registers (<see cref="SixteenBitDot{TFormat}"/>).</summary>
public sealed class BFloat16WeightMatrix(string name, int rows, int columns, MatrixBytes bytes) : BlockRowMatrix(name, rows, columns, bytes)
{
    public override void CopyRow(int row, Span<float> destination) => BF16Format.Decode(Bytes.Rows(row, 1), destination);

    protected override void ComputeChunk(ReadOnlySpan<float> x, ReadOnlySpan<byte> rows, Span<float> y) =>
        SixteenBitDot<BFloat16Bits>.Rows(MemoryMarshal.Cast<byte, ushort>(rows), x, y);
}
