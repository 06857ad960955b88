using Tern.Quantization;

namespace Tern.Models;

/// <summary>
/// A BitLinear layer's ternary weights, computed as DESIGN.md defines it: the input is quantized per token to int8
/// (s = 127 / max|x|, round half to even), the integer dot products W̃·q are exact, and y = (W̃·q) · γ / s.
/// This is the scalar reference every optimized kernel is compared against.
/// </summary>
public sealed class TernaryWeightMatrix : WeightMatrix
{
    private readonly sbyte[] _values;
    private readonly float[] _blockScales;
    private readonly int _blockSize;

    public TernaryWeightMatrix(string name, int rows, int columns, TernaryTensor tensor)
        : base(name, rows, columns)
    {
        _values = tensor.Values;
        if (tensor.TryGetUniformScale(out float scale))
        {
            _blockScales = [scale];
            _blockSize = columns;
        }
        else
        {
            // TQ files from other tools may scale each block of 256 on its own; blocks never straddle rows.
            if (columns % tensor.BlockSize != 0)
                throw new InvalidDataException($"tensor '{name}': rows of {columns} do not hold whole scale blocks of {tensor.BlockSize}");
            _blockScales = tensor.BlockScales;
            _blockSize = tensor.BlockSize;
        }
    }

    public override void Multiply(ReadOnlySpan<float> x, Span<float> y)
    {
        var q = new sbyte[Columns];
        float s = AbsmaxInt8Quantizer.Quantize(x, q);
        int blocksPerRow = Columns / _blockSize;
        bool uniform = _blockScales.Length == 1;
        for (int r = 0; r < Rows; r++)
        {
            var w = _values.AsSpan(r * Columns, Columns);
            float sum = 0;
            for (int b = 0; b < blocksPerRow; b++)
            {
                int acc = 0;
                for (int j = b * _blockSize; j < (b + 1) * _blockSize; j++)
                    acc += w[j] * q[j];
                sum += acc * (uniform ? _blockScales[0] : _blockScales[(r * blocksPerRow) + b]);
            }

            y[r] = sum / s;
        }
    }
}
