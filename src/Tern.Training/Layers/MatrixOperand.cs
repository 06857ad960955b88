namespace Tern.Training.Layers;

/// <summary>A row-major matrix inside an array, read as itself or as its transpose: element (i, p) is
/// Data[Offset + i·Stride + p], or Data[Offset + p·Stride + i] when <see cref="Transposed"/>.</summary>
public readonly record struct MatrixOperand<T>(T[] Data, int Offset, int Stride, bool Transposed = false)
{
    public T this[int i, int p] => Transposed ? Data[Offset + (p * Stride) + i] : Data[Offset + (i * Stride) + p];
}
