using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Tern.Runtime;

namespace Tern.Models;

/// <summary>
/// Causal multi-head attention with grouped keys and values over the KV cache, for a chunk of tokens: token t of the
/// chunk (at position p + t) attends to positions 0 … p + t. Work is cut into (KV head, up to 16 tokens) items
/// shared across the pool's workers; an item computes all its queries against one block of 64 cached positions
/// before the next, so each block of keys and values is read from memory once per item rather than once per query
/// (a layer's cache outgrows the L2 cache within a few hundred positions). Each query's arithmetic (the order of
/// every sum) is the same whichever item, block or worker computes it.
/// </summary>
internal sealed class Attention : IParallelWork
{
    private const int TokensPerItem = 16;
    private const int PositionBlock = 64;

    private readonly ModelConfig _c;
    private readonly WorkerPool? _pool;
    private readonly int _contextLength;
    private readonly float[][] _scores;

    // The chunk being computed.
    private int _layer, _position, _tokens;
    private KvCache? _cache;
    private float[]? _queries, _output;

    public Attention(ModelConfig config, int contextLength, WorkerPool? pool)
    {
        _c = config;
        _pool = pool;
        _contextLength = contextLength;
        _scores = new float[pool?.Threads ?? 1][];
        int queriesPerItem = TokensPerItem * (config.HeadCount / config.HeadCountKv);
        for (int i = 0; i < _scores.Length; i++)
            _scores[i] = new float[queriesPerItem * contextLength];
    }

    /// <summary>Attends for <paramref name="tokens"/> queries (token t's at t·QueryLength) into <paramref name="output"/>.</summary>
    public void Run(int layer, int position, int tokens, KvCache cache, float[] queries, float[] output)
    {
        (_layer, _position, _tokens, _cache, _queries, _output) = (layer, position, tokens, cache, queries, output);
        try
        {
            if (_pool is { Threads: > 1 } && Items > 1)
                _pool.Run(this);
            else
                Execute(0, 1);
        }
        finally
        {
            (_cache, _queries, _output) = (null, null, null);
        }
    }

    private int TokenBlocks => (_tokens + TokensPerItem - 1) / TokensPerItem;

    private int Items => TokenBlocks * _c.HeadCountKv;

    public void Execute(int worker, int workers)
    {
        var (start, end) = WorkerPool.Split(Items, worker, workers);
        for (int i = start; i < end; i++)
        {
            int t0 = i / _c.HeadCountKv * TokensPerItem;
            Group(i % _c.HeadCountKv, t0, Math.Min(_tokens, t0 + TokensPerItem), _scores[worker]);
        }
    }

    /// <summary>The queries of tokens [t0, t1) in the heads that share KV head <paramref name="kvHead"/>.</summary>
    private void Group(int kvHead, int t0, int t1, float[] scoreBuffer)
    {
        int headDim = _c.HeadDim, group = _c.HeadCount / _c.HeadCountKv, qLen = _c.QueryLength;
        int kvOffset = kvHead * headDim, last = _position + t1 - 1;
        float scale = 1f / MathF.Sqrt(headDim);

        for (int block = 0; block <= last; block += PositionBlock)
        {
            for (int t = t0; t < t1; t++)
            {
                int end = Math.Min(block + PositionBlock, _position + t + 1);
                for (int j = 0; j < group && block < end; j++)
                    Scores(Query(t, (kvHead * group) + j), Row(scoreBuffer, t - t0, j, group), block, end, kvOffset, scale);
            }
        }

        for (int t = t0; t < t1; t++)
        {
            for (int j = 0; j < group; j++)
            {
                StableSoftMax.InPlace(Row(scoreBuffer, t - t0, j, group).AsSpan(0, _position + t + 1));
                _output.AsSpan((t * qLen) + (((kvHead * group) + j) * headDim), headDim).Clear();
            }
        }

        for (int block = 0; block <= last; block += PositionBlock)
        {
            for (int t = t0; t < t1; t++)
            {
                int end = Math.Min(block + PositionBlock, _position + t + 1);
                for (int j = 0; j < group && block < end; j++)
                {
                    var o = _output.AsSpan((t * qLen) + (((kvHead * group) + j) * headDim), headDim);
                    WeightedValues(o, Row(scoreBuffer, t - t0, j, group), block, end, kvOffset);
                }
            }
        }
    }

    private ReadOnlySpan<float> Query(int token, int head) => _queries.AsSpan((token * _c.QueryLength) + (head * _c.HeadDim), _c.HeadDim);

    private ArraySegment<float> Row(float[] buffer, int token, int j, int group) =>
        new(buffer, ((token * group) + j) * _contextLength, _contextLength);

    /// <summary>
    /// Scores of positions [start, end) into <paramref name="scores"/>[start …]: q·k in <see cref="Kernels.WarpOrderSum"/>'s
    /// order, as the CUDA attention kernel sums them, times 1/√d.
    /// </summary>
    private void Scores(ReadOnlySpan<float> q, Span<float> scores, int start, int end, int kvOffset, float scale)
    {
        for (int t = start; t < end; t++)
            scores[t] = Kernels.WarpOrderSum.Dot(q, _cache!.Key(_layer, t).Slice(kvOffset, _c.HeadDim)) * scale;
    }

    /// <summary>o += Σ p_t · v_t over positions [start, end), each element summed in position order.</summary>
    private void WeightedValues(Span<float> o, ReadOnlySpan<float> p, int start, int end, int kvOffset)
    {
        if (Vector512.IsHardwareAccelerated && _c.HeadDim % 64 == 0)
        {
            WeightedValues512(o, p[start..end], start, kvOffset);
            return;
        }

        for (int t = start; t < end; t++)
            TensorPrimitives.MultiplyAdd(_cache!.Value(_layer, t).Slice(kvOffset, _c.HeadDim), p[t], o, o);
    }

    /// <summary>
    /// o += Σ_t p_t · v_t with the sums in registers, 64 dimensions per pass over the positions, instead of a call
    /// per position that loads and stores o. Each element adds the same products in the same order as that loop.
    /// </summary>
    private void WeightedValues512(Span<float> o, ReadOnlySpan<float> p, int first, int kvOffset)
    {
        var values = _cache!.LayerValues(_layer);
        int width = _c.KeyValueLength;
        ref float v = ref MemoryMarshal.GetReference(values);
        ref float os = ref MemoryMarshal.GetReference(o);
        for (int d = 0; d < o.Length; d += 64)
        {
            var a0 = Vector512.LoadUnsafe(ref os, (nuint)d);
            var a1 = Vector512.LoadUnsafe(ref os, (nuint)d + 16);
            var a2 = Vector512.LoadUnsafe(ref os, (nuint)d + 32);
            var a3 = Vector512.LoadUnsafe(ref os, (nuint)d + 48);
            nuint row = (nuint)((first * width) + kvOffset + d);
            for (int t = 0; t < p.Length; t++, row += (nuint)width)
            {
                var weight = Vector512.Create(p[t]);
                a0 += Vector512.LoadUnsafe(ref v, row) * weight;
                a1 += Vector512.LoadUnsafe(ref v, row + 16) * weight;
                a2 += Vector512.LoadUnsafe(ref v, row + 32) * weight;
                a3 += Vector512.LoadUnsafe(ref v, row + 48) * weight;
            }

            a0.StoreUnsafe(ref os, (nuint)d);
            a1.StoreUnsafe(ref os, (nuint)d + 16);
            a2.StoreUnsafe(ref os, (nuint)d + 32);
            a3.StoreUnsafe(ref os, (nuint)d + 48);
        }
    }
}
