using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Tern.Kernels;

namespace Tern.Models;

/// <summary>
/// An F16 matrix (the usual head and embedding; 2B-4T's is 656 MB, twice that as F32) computed where it is stored:
/// <see cref="SixteenBitDot{TFormat}"/> widens each weight in registers and multiplies it in the same pass.
/// </summary>
public sealed class HalfWeightMatrix(string name, int rows, int columns, MatrixBytes bytes) : BlockRowMatrix(name, rows, columns, bytes)
{
    public override void CopyRow(int row, Span<float> destination) =>
        TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(Bytes.Rows(row, 1)), destination);

    protected override void ComputeChunk(ReadOnlySpan<float> x, ReadOnlySpan<byte> rows, Span<float> y) =>
        SixteenBitDot<HalfBits>.Rows(MemoryMarshal.Cast<byte, ushort>(rows), x, y);
}
