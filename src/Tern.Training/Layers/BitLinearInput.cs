using System.Numerics;

namespace Tern.Training.Layers;

/// <summary>
/// The input of a BitLinear as the matrix product saw it, kept for the backward pass: with quantization on, the
/// integers q (held in T, exactly) and each row's scale s, so that x ≈ q / s; with it off, x itself.
/// </summary>
public sealed class BitLinearInput<T>(int rows, int width, bool quantized)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public int Width { get; } = width;

    public T[] Values { get; } = new T[rows * width];

    /// <summary>s = 127 / max|x| per row; null without quantization.</summary>
    public T[]? Scales { get; } = quantized ? new T[rows] : null;
}
