using System.Numerics.Tensors;
using Tern.Inference;
using Tern.Inference.Placement;
using Tern.Runtime;

namespace Tern.Models;

/// <summary>Receives the logits after token <paramref name="index"/> of a batch (valid only during the call).</summary>
public delegate void LogitsHandler(int index, ReadOnlySpan<float> logits);

/// <summary>
/// The forward pass of every supported family, written once and read top to bottom like the equations
/// (llama2.c's run.c is the model): the families differ only in the RoPE pairing, the FFN activation and the
/// optional sub-norms. Tokens go through in chunks of up to <see cref="ChunkTokens"/>, so each matrix reads its
/// weights once per chunk rather than once per token; one token (decoding) is a chunk of one. Every token's
/// arithmetic is the same in a chunk as alone. Scratch buffers are allocated once per session, never per token.
/// When a device computes the last blocks (<see cref="IOffloadSession"/>), the host runs the embedding lookup and its
/// own blocks, then hands each chunk's hidden states over; the device hands back logits, or the hidden states for
/// the host's head.
/// </summary>
public sealed class Transformer
{
    /// <summary>Tokens computed together: their activations for the widest matrix stay within the L2 cache.</summary>
    public const int ChunkTokens = 64;

    private readonly ModelConfig _c;
    private readonly ModelWeights _w;
    private readonly float[] _x, _xb, _xb2, _q, _hb, _hb2, _logits;
    private readonly float[] _frequencies, _cos, _sin;
    private readonly Attention _attention;
    private readonly TokenSteps _steps;
    private readonly IOffloadSession? _offload;
    private readonly int _hostLayers, _chunkTokens;
    private readonly bool _deviceHead;

    public Transformer(ModelConfig config, ModelWeights weights, int contextLength, WorkerPool? pool = null)
        : this(config, weights, contextLength, pool, null, null)
    {
    }

    /// <param name="offload">The device's part of the session, or null when the host computes everything.</param>
    /// <param name="device">The model's device part (<paramref name="offload"/>'s owner): which blocks and whether the head.</param>
    public Transformer(ModelConfig config, ModelWeights weights, int contextLength, WorkerPool? pool, IModelOffload? device, IOffloadSession? offload)
    {
        _c = config;
        _w = weights;
        _offload = offload;
        _hostLayers = device?.FirstLayer ?? config.BlockCount;
        _deviceHead = device?.ComputesHead ?? false;
        _chunkTokens = device is { FirstLayer: 0 } ? Math.Max(ChunkTokens, device.ChunkTokens) : ChunkTokens;
        int n = _chunkTokens;
        // Blocks the host does not compute need no scratch beyond the hidden states it hands over.
        int hostTokens = _hostLayers > 0 ? n : 1;
        _x = new float[n * config.EmbeddingLength];
        _xb = new float[hostTokens * Math.Max(config.EmbeddingLength, config.QueryLength)];
        _xb2 = new float[hostTokens * config.EmbeddingLength];
        _q = new float[hostTokens * config.QueryLength];
        _hb = new float[hostTokens * config.FeedForwardLength];
        _hb2 = new float[hostTokens * config.FeedForwardLength];
        _logits = new float[config.VocabSize];
        _frequencies = RopeFrequencies(config, weights.RopeFactors);
        _cos = new float[hostTokens * _frequencies.Length];
        _sin = new float[hostTokens * _frequencies.Length];
        _attention = new Attention(config, contextLength, pool);
        _steps = new TokenSteps(this, pool);
    }

    /// <summary>Runs one token at <paramref name="position"/> (writing its keys and values) and returns the logits.</summary>
    public ReadOnlySpan<float> Forward(int token, int position, KvCache cache) => Forward([token], position, cache);

    /// <summary>
    /// Runs <paramref name="tokens"/> at positions <paramref name="position"/> onwards (writing their keys and values)
    /// and returns the logits after the last one.
    /// </summary>
    public ReadOnlySpan<float> Forward(scoped ReadOnlySpan<int> tokens, int position, KvCache cache)
    {
        Forward(tokens, position, cache, tokens.Length - 1, null);
        return _logits;
    }

    /// <summary>
    /// Runs <paramref name="tokens"/> at positions <paramref name="position"/> onwards and hands the logits after
    /// each token from index <paramref name="firstLogits"/> on to <paramref name="onLogits"/> (index, logits), in order.
    /// The logits of the last token stay available as the return value of the overload without a handler.
    /// </summary>
    public void Forward(scoped ReadOnlySpan<int> tokens, int position, KvCache cache, int firstLogits, LogitsHandler? onLogits)
    {
        CheckInput(tokens, position, cache);
        int dim = _c.EmbeddingLength;
        for (int start = 0; start < tokens.Length; start += _chunkTokens)
        {
            var chunk = tokens.Slice(start, Math.Min(_chunkTokens, tokens.Length - start));
            ForwardChunk(chunk, position + start, cache);
            if (_offload is not null)
            {
                // The device hands over the logits of tokens first … end when it has the head; otherwise (first = the
                // chunk's end) it writes the hidden states back for the host's head below.
                int first = _deviceHead ? Math.Clamp(firstLogits - start, 0, chunk.Length) : chunk.Length;
                LogitsHandler? handler = onLogits is null || first == chunk.Length ? null : (i, logits) => onLogits(start + i, logits);
                _offload.Forward(_x.AsSpan(0, chunk.Length * dim), chunk.Length, position + start, first, handler, _logits);
                if (_deviceHead)
                    continue;
            }

            for (int t = Math.Max(0, firstLogits - start); t < chunk.Length; t++)
            {
                Head(_x.AsSpan(t * dim, dim), _logits);
                onLogits?.Invoke(start + t, _logits);
            }
        }
    }

    /// <summary>
    /// Runs one token at <paramref name="position"/> (writing its keys and values) and returns the most likely next
    /// token, as <see cref="Session.ArgMax"/> picks it from the logits. A device that computes the head picks it there
    /// and hands back only the token, so the logits are not produced; elsewhere this is Forward and ArgMax.
    /// </summary>
    public int ForwardGreedy(int token, int position, KvCache cache)
    {
        if (_offload is null || !_deviceHead)
            return Session.ArgMax(Forward(token, position, cache));
        ReadOnlySpan<int> tokens = [token];
        CheckInput(tokens, position, cache);
        ForwardChunk(tokens, position, cache);
        var hidden = _x.AsSpan(0, _c.EmbeddingLength);
        if (_offload.TryForwardGreedy(hidden, position, out int next))
            return next;
        _offload.Forward(hidden, 1, position, 0, null, _logits);
        return Session.ArgMax(_logits);
    }

    private void CheckInput(ReadOnlySpan<int> tokens, int position, KvCache cache)
    {
        if (tokens.IsEmpty)
            throw new ArgumentException("no tokens to run", nameof(tokens));
        foreach (int token in tokens)
        {
            if ((uint)token >= (uint)_c.VocabSize)
                throw new ArgumentOutOfRangeException(nameof(tokens), token, $"token id outside the vocabulary of {_c.VocabSize}");
        }

        if (position < 0 || position + tokens.Length > cache.ContextLength)
            throw new ArgumentOutOfRangeException(nameof(position), position, $"{tokens.Length} tokens from position {position} pass the context of {cache.ContextLength}");
    }

    /// <summary>
    /// Runs blocks <paramref name="firstLayer"/> … last on the hidden states of <paramref name="tokens"/> tokens (at
    /// most <see cref="ChunkTokens"/>) at positions <paramref name="position"/> onwards, in place, keeping their keys
    /// and values in <paramref name="cache"/>: what a device does with the hidden states the host hands it, computed
    /// by the host's own code (the tests' stand-in device).
    /// </summary>
    internal void ForwardBlocks(Span<float> hidden, int tokens, int position, KvCache cache, int firstLayer)
    {
        int dim = _c.EmbeddingLength;
        ArgumentOutOfRangeException.ThrowIfGreaterThan(tokens, _chunkTokens);
        hidden[..(tokens * dim)].CopyTo(_x);
        RunBlocks(firstLayer, _c.BlockCount, tokens, position, cache);
        _x.AsSpan(0, tokens * dim).CopyTo(hidden);
    }

    /// <summary>The output norm (in place on one token's hidden state <paramref name="x"/>) and the head.</summary>
    internal void Head(Span<float> x, Span<float> logits)
    {
        RmsNorm(x, _w.OutputNorm, _c.OutputNormEpsilon, x);
        _w.Output.Multiply(x, logits);
    }

    private void ForwardChunk(ReadOnlySpan<int> tokens, int position, KvCache cache)
    {
        int dim = _c.EmbeddingLength;
        for (int t = 0; t < tokens.Length; t++)
            _w.TokenEmbedding.CopyRow(tokens[t], _x.AsSpan(t * dim, dim));
        if (_hostLayers > 0)
            RunBlocks(0, _hostLayers, tokens.Length, position, cache);
    }

    /// <summary>Blocks <paramref name="firstLayer"/> … <paramref name="endLayer"/> − 1 on the chunk's hidden states in _x.</summary>
    private void RunBlocks(int firstLayer, int endLayer, int n, int position, KvCache cache)
    {
        int dim = _c.EmbeddingLength, qLen = _c.QueryLength, ffn = _c.FeedForwardLength;
        var x = _x.AsMemory(0, n * dim);
        var xb = _xb.AsMemory(0, n * dim);
        var attnOut = _xb.AsMemory(0, n * qLen);
        var q = _q.AsMemory(0, n * qLen);
        var xb2 = _xb2.AsMemory(0, n * dim);
        var hb = _hb.AsMemory(0, n * ffn);
        var hb2 = _hb2.AsMemory(0, n * ffn);
        RopeAngles(position, n);
        _steps.Begin(cache, position, n);

        for (int l = firstLayer; l < endLayer; l++)
        {
            var layer = _w.Layers[l];

            _steps.Run(TokenStep.AttentionNorm, l);
            layer.Query.Multiply(xb, q, n);
            layer.Key.Multiply(xb, cache.Keys(l, position, n), n);
            layer.Value.Multiply(xb, cache.Values(l, position, n), n);
            _steps.Run(TokenStep.Rope, l);

            _attention.Run(l, position, n, cache, _q, _xb);
            if (layer.AttentionSubNorm is not null)
                _steps.Run(TokenStep.AttentionSubNorm, l);
            layer.Output.Multiply(attnOut, xb2, n);
            TensorPrimitives.Add(x.Span, xb2.Span, x.Span);

            _steps.Run(TokenStep.FfnNorm, l);
            layer.Gate.Multiply(xb, hb, n);
            layer.Up.Multiply(xb, hb2, n);
            _steps.Run(TokenStep.FfnActivation, l);
            layer.Down.Multiply(hb, xb2, n);
            TensorPrimitives.Add(x.Span, xb2.Span, x.Span);
        }
    }

    /// <summary>The work between the matrix products, one token at a time (the steps split tokens across workers).</summary>
    private void Compute(TokenStep step, int layer, int t, KvCache cache, int position)
    {
        int dim = _c.EmbeddingLength, qLen = _c.QueryLength, kvLen = _c.KeyValueLength, ffn = _c.FeedForwardLength;
        var weights = _w.Layers[layer];
        switch (step)
        {
            case TokenStep.AttentionNorm:
                RmsNorm(_x.AsSpan(t * dim, dim), weights.AttentionNorm, _c.RmsNormEpsilon, _xb.AsSpan(t * dim, dim));
                break;
            case TokenStep.Rope:
                Rope(_q.AsSpan(t * qLen, qLen), t);
                Rope(cache.Key(layer, position + t), t);
                break;
            case TokenStep.AttentionSubNorm:
                var attnOut = _xb.AsSpan(t * qLen, qLen);
                RmsNorm(attnOut, weights.AttentionSubNorm, _c.RmsNormEpsilon, attnOut);
                break;
            case TokenStep.FfnNorm:
                RmsNorm(_x.AsSpan(t * dim, dim), weights.FfnNorm, _c.RmsNormEpsilon, _xb.AsSpan(t * dim, dim));
                break;
            case TokenStep.FfnActivation:
                var hidden = _hb.AsSpan(t * ffn, ffn);
                Activate(hidden, _hb2.AsSpan(t * ffn, ffn));
                if (weights.FfnSubNorm is { } ffnSub)
                    RmsNorm(hidden, ffnSub, _c.RmsNormEpsilon, hidden);
                break;
        }
    }

    private enum TokenStep
    {
        AttentionNorm,
        Rope,
        AttentionSubNorm,
        FfnNorm,
        FfnActivation,
    }

    /// <summary>Runs a <see cref="TokenStep"/> for every token of the chunk, the tokens shared across the pool's workers.</summary>
    private sealed class TokenSteps(Transformer owner, WorkerPool? pool) : IParallelWork
    {
        private KvCache? _cache;
        private int _position, _tokens, _layer;
        private TokenStep _step;

        public void Begin(KvCache cache, int position, int tokens) => (_cache, _position, _tokens) = (cache, position, tokens);

        public void Run(TokenStep step, int layer)
        {
            (_step, _layer) = (step, layer);
            if (pool is { Threads: > 1 } && _tokens > 1)
                pool.Run(this);
            else
                Execute(0, 1);
        }

        public void Execute(int worker, int workers)
        {
            var (start, end) = WorkerPool.Split(_tokens, worker, workers);
            for (int t = start; t < end; t++)
                owner.Compute(_step, _layer, t, _cache!, _position);
        }
    }

    private static void RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float epsilon, Span<float> output)
    {
        float sumOfSquares = Kernels.ChunkOrderSum.SumOfSquares(x);
        float scale = 1f / MathF.Sqrt((sumOfSquares / x.Length) + epsilon);
        // (w·x)·scale, not w·(x·scale): rounding is monotone, so the largest |output| is max|w·x|·scale, which the
        // GPU's producers of x find chunk by chunk before the scale is known (the quantizer's absmax in one pass).
        for (int i = 0; i < x.Length; i++)
            output[i] = (weight[i] * x[i]) * scale;
    }

    /// <summary>Each rotation pair's angle per position (θ_i, divided by rope_freqs' factor when the model has one); a device computes its angles from the same values.</summary>
    public static float[] RopeFrequencies(ModelConfig c, float[]? factors)
    {
        int half = c.HeadDim / 2;
        var frequencies = new float[half];
        for (int i = 0; i < half; i++)
        {
            frequencies[i] = 1f / MathF.Pow(c.RopeFreqBase, 2f * i / c.HeadDim);
            if (factors is not null)
                frequencies[i] /= factors[i];
        }

        return frequencies;
    }

    /// <summary>The rotation of every frequency at each of the chunk's positions, shared by all layers and heads.</summary>
    private void RopeAngles(int position, int tokens)
    {
        int half = _frequencies.Length;
        for (int t = 0; t < tokens; t++)
        {
            for (int i = 0; i < half; i++)
            {
                float angle = (position + t) * _frequencies[i];
                _cos[(t * half) + i] = MathF.Cos(angle);
                _sin[(t * half) + i] = MathF.Sin(angle);
            }
        }
    }

    /// <summary>Rotates every head of one token's vector by the angles of the chunk's token <paramref name="t"/>.</summary>
    private void Rope(Span<float> vector, int t)
    {
        int headDim = _c.HeadDim, half = headDim / 2;
        var cos = _cos.AsSpan(t * half, half);
        var sin = _sin.AsSpan(t * half, half);
        for (int head = 0; head < vector.Length / headDim; head++)
        {
            var h = vector.Slice(head * headDim, headDim);
            for (int i = 0; i < half; i++)
            {
                (int a, int b) = _c.Rope == RopeStyle.Norm ? (2 * i, (2 * i) + 1) : (i, i + half);
                float x0 = h[a], x1 = h[b];
                h[a] = (x0 * cos[i]) - (x1 * sin[i]);
                h[b] = (x0 * sin[i]) + (x1 * cos[i]);
            }
        }
    }

    private void Activate(Span<float> gate, ReadOnlySpan<float> up)
    {
        for (int i = 0; i < gate.Length; i++)
        {
            float g = gate[i];
            float a = _c.Activation == FfnActivation.Silu ? g / (1f + Kernels.PortableExp.Exp(-g)) : MathF.Max(g, 0) * MathF.Max(g, 0);
            gate[i] = a * up[i];
        }
    }
}
