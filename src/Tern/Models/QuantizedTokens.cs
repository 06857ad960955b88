using Tern.Quantization;

namespace Tern.Models;

/// <summary>
/// Tokens quantized for a ternary product: int8 activations (token t at t·columns), Σq per token, and the factor
/// γ / s that turns an integer row sum minus Σq into the output. Buffers grow to the largest product and are reused.
/// </summary>
internal sealed class QuantizedTokens
{
    private sbyte[] _values = [];
    private int[] _sums = [];
    private float[] _factors = [];

    public int Count { get; private set; }

    public ReadOnlySpan<sbyte> Values => _values;

    public ReadOnlySpan<int> Sums => _sums;

    public ReadOnlySpan<float> Factors => _factors;

    public void Quantize(ReadOnlySpan<float> x, int tokens, int columns, float weightScale)
    {
        if (_values.Length < tokens * columns)
            _values = new sbyte[tokens * columns];
        if (_sums.Length < tokens)
        {
            _sums = new int[tokens];
            _factors = new float[tokens];
        }

        Count = tokens;
        for (int t = 0; t < tokens; t++)
        {
            float s = AbsmaxInt8Quantizer.Quantize(x.Slice(t * columns, columns), _values.AsSpan(t * columns, columns), out _sums[t]);
            _factors[t] = weightScale / s;
        }
    }
}
