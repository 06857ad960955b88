using Tern.Gguf;

namespace Tern.Models;

/// <summary>
/// The bytes of a row-major matrix stored in a block format: a tensor in the memory-mapped file (read in place), or
/// an array built at load (a head requantized to another type). Products read a range of rows at a time.
/// </summary>
public abstract class MatrixBytes
{
    private MatrixBytes(int rowBytes) => RowBytes = rowBytes;

    public int RowBytes { get; }

    /// <summary>The bytes of <paramref name="count"/> rows from <paramref name="row"/>.</summary>
    public abstract ReadOnlySpan<byte> Rows(int row, int count);

    public static MatrixBytes InFile(GgufFile file, GgufTensorInfo tensor, int rowBytes) => new Mapped(file, tensor, rowBytes);

    public static MatrixBytes InMemory(byte[] bytes, int rowBytes) => new Array(bytes, rowBytes);

    private sealed class Mapped(GgufFile file, GgufTensorInfo tensor, int rowBytes) : MatrixBytes(rowBytes)
    {
        public override ReadOnlySpan<byte> Rows(int row, int count) => file.GetTensorData(tensor, (long)row * RowBytes, count * RowBytes);
    }

    private sealed class Array(byte[] bytes, int rowBytes) : MatrixBytes(rowBytes)
    {
        public override ReadOnlySpan<byte> Rows(int row, int count) => bytes.AsSpan(checked(row * RowBytes), count * RowBytes);
    }
}
