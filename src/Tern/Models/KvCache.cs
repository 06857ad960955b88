namespace Tern.Models;

/// <summary>
/// Keys and values of the host's layers for every position so far, allocated once for the session's context (layers
/// a device computes keep theirs in device memory).
/// </summary>
public sealed class KvCache
{
    private readonly float[][] _keys;
    private readonly float[][] _values;
    private readonly int _width;

    /// <param name="layers">Layers 0 … layers − 1 get a cache (default: all of the model's).</param>
    public KvCache(ModelConfig config, int contextLength, int? layers = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(contextLength);
        int count = layers ?? config.BlockCount;
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, config.BlockCount);
        ContextLength = contextLength;
        _width = config.KeyValueLength;
        _keys = new float[count][];
        _values = new float[count][];
        for (int l = 0; l < count; l++)
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
