namespace Tern.Models;

/// <summary>Keys and values of every layer for every position so far, allocated once for the session's context.</summary>
public sealed class KvCache
{
    private readonly float[][] _keys;
    private readonly float[][] _values;
    private readonly int _width;

    public KvCache(ModelConfig config, int contextLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(contextLength);
        ContextLength = contextLength;
        _width = config.KeyValueLength;
        _keys = new float[config.BlockCount][];
        _values = new float[config.BlockCount][];
        for (int l = 0; l < config.BlockCount; l++)
        {
            _keys[l] = new float[(long)contextLength * _width];
            _values[l] = new float[(long)contextLength * _width];
        }
    }

    public int ContextLength { get; }

    public Span<float> Key(int layer, int position) => _keys[layer].AsSpan(position * _width, _width);

    public Span<float> Value(int layer, int position) => _values[layer].AsSpan(position * _width, _width);

    /// <summary>Every position's keys of a layer, position after position.</summary>
    public ReadOnlySpan<float> LayerKeys(int layer) => _keys[layer];

    /// <summary>Every position's values of a layer, position after position (attention reads them in one sweep).</summary>
    public ReadOnlySpan<float> LayerValues(int layer) => _values[layer];

    /// <summary>The keys of <paramref name="count"/> consecutive positions, one after another.</summary>
    public Memory<float> Keys(int layer, int position, int count) => _keys[layer].AsMemory(position * _width, count * _width);

    /// <summary>The values of <paramref name="count"/> consecutive positions, one after another.</summary>
    public Memory<float> Values(int layer, int position, int count) => _values[layer].AsMemory(position * _width, count * _width);
}
