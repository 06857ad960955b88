using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Tern.Runtime;

namespace Tern.Models;

/// <summary>
/// Causal multi-head attention with grouped keys and values over the KV cache, for a chunk of tokens: token t of the
/// chunk (at position p + t) attends to positions 0 … p + t. The (token, head) pairs are shared across the pool's
/// workers; each pair's arithmetic is the same whichever worker computes it.
/// </summary>
internal sealed class Attention : IParallelWork
{
    private readonly ModelConfig _c;
    private readonly WorkerPool? _pool;
    private readonly float[][] _scores;

    // The chunk being computed.
    private int _layer, _position, _tokens;
    private KvCache? _cache;
    private float[]? _queries, _output;

    public Attention(ModelConfig config, int contextLength, WorkerPool? pool)
    {
        _c = config;
        _pool = pool;
        _scores = new float[pool?.Threads ?? 1][];
        for (int i = 0; i < _scores.Length; i++)
            _scores[i] = new float[contextLength];
    }

    /// <summary>Attends for <paramref name="tokens"/> queries (token t's at t·QueryLength) into <paramref name="output"/>.</summary>
    public void Run(int layer, int position, int tokens, KvCache cache, float[] queries, float[] output)
    {
        (_layer, _position, _tokens, _cache, _queries, _output) = (layer, position, tokens, cache, queries, output);
        try
        {
            if (_pool is { Threads: > 1 } && tokens * _c.HeadCount > 1)
                _pool.Run(this);
            else
                Execute(0, 1);
        }
        finally
        {
            (_cache, _queries, _output) = (null, null, null);
        }
    }

    public void Execute(int worker, int workers)
    {
        var (start, end) = WorkerPool.Split(_tokens * _c.HeadCount, worker, workers);
        for (int i = start; i < end; i++)
            Head(i / _c.HeadCount, i % _c.HeadCount, _scores[worker]);
    }

    private void Head(int token, int head, float[] scoreBuffer)
    {
        int headDim = _c.HeadDim, group = _c.HeadCount / _c.HeadCountKv, qLen = _c.QueryLength;
        int position = _position + token, kvOffset = head / group * headDim;
        float scale = 1f / MathF.Sqrt(headDim);
        var q = _queries.AsSpan((token * qLen) + (head * headDim), headDim);
        var scores = scoreBuffer.AsSpan(0, position + 1);
        if (Vector512.IsHardwareAccelerated && headDim == 128)
        {
            Scores128(q, scores, kvOffset, scale);
        }
        else
        {
            for (int t = 0; t <= position; t++)
                scores[t] = TensorPrimitives.Dot(q, _cache!.Key(_layer, t).Slice(kvOffset, headDim)) * scale;
        }
        StableSoftMax.InPlace(scores);

        var o = _output.AsSpan((token * qLen) + (head * headDim), headDim);
        if (Vector512.IsHardwareAccelerated && headDim % 64 == 0)
        {
            WeightedValues(o, scores, kvOffset);
            return;
        }

        o.Clear();
        for (int t = 0; t <= position; t++)
            TensorPrimitives.MultiplyAdd(_cache!.Value(_layer, t).Slice(kvOffset, headDim), scores[t], o, o);
    }

    /// <summary>
    /// q·k_t for every position with heads of 128 (2B-4T, Llama 3): the query stays in eight registers and each
    /// position costs eight multiply-adds and one horizontal sum, where a library call per position costs several times that.
    /// </summary>
    private void Scores128(ReadOnlySpan<float> query, Span<float> scores, int kvOffset, float scale)
    {
        var keys = _cache!.LayerKeys(_layer);
        int width = _c.KeyValueLength;
        ref float k = ref MemoryMarshal.GetReference(keys);
        ref float qs = ref MemoryMarshal.GetReference(query);
        var q0 = Vector512.LoadUnsafe(ref qs);
        var q1 = Vector512.LoadUnsafe(ref qs, 16);
        var q2 = Vector512.LoadUnsafe(ref qs, 32);
        var q3 = Vector512.LoadUnsafe(ref qs, 48);
        var q4 = Vector512.LoadUnsafe(ref qs, 64);
        var q5 = Vector512.LoadUnsafe(ref qs, 80);
        var q6 = Vector512.LoadUnsafe(ref qs, 96);
        var q7 = Vector512.LoadUnsafe(ref qs, 112);
        nuint row = (nuint)kvOffset;
        for (int t = 0; t < scores.Length; t++, row += (nuint)width)
        {
            var a = Vector512.FusedMultiplyAdd(q1, Vector512.LoadUnsafe(ref k, row + 16), q0 * Vector512.LoadUnsafe(ref k, row));
            var b = Vector512.FusedMultiplyAdd(q3, Vector512.LoadUnsafe(ref k, row + 48), q2 * Vector512.LoadUnsafe(ref k, row + 32));
            a = Vector512.FusedMultiplyAdd(q5, Vector512.LoadUnsafe(ref k, row + 80), Vector512.FusedMultiplyAdd(q4, Vector512.LoadUnsafe(ref k, row + 64), a));
            b = Vector512.FusedMultiplyAdd(q7, Vector512.LoadUnsafe(ref k, row + 112), Vector512.FusedMultiplyAdd(q6, Vector512.LoadUnsafe(ref k, row + 96), b));
            scores[t] = Vector512.Sum(a + b) * scale;
        }
    }

    /// <summary>
    /// o = Σ_t p_t · v_t with the sums in registers, 64 dimensions per pass over the positions, instead of a call
    /// per position that loads and stores o. Each element adds the same products in the same order as that loop.
    /// </summary>
    private void WeightedValues(Span<float> o, ReadOnlySpan<float> p, int kvOffset)
    {
        var values = _cache!.LayerValues(_layer);
        int width = _c.KeyValueLength;
        ref float v = ref MemoryMarshal.GetReference(values);
        for (int d = 0; d < o.Length; d += 64)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            nuint row = (nuint)(kvOffset + d);
            for (int t = 0; t < p.Length; t++, row += (nuint)width)
            {
                var weight = Vector512.Create(p[t]);
                a0 += Vector512.LoadUnsafe(ref v, row) * weight;
                a1 += Vector512.LoadUnsafe(ref v, row + 16) * weight;
                a2 += Vector512.LoadUnsafe(ref v, row + 32) * weight;
                a3 += Vector512.LoadUnsafe(ref v, row + 48) * weight;
            }

            a0.CopyTo(o[d..]);
            a1.CopyTo(o[(d + 16)..]);
            a2.CopyTo(o[(d + 32)..]);
            a3.CopyTo(o[(d + 48)..]);
        }
    }
}
