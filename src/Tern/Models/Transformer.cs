using System.Numerics.Tensors;

namespace Tern.Models;

/// <summary>
/// The forward pass of every supported family, written once and read top to bottom like the equations
/// (llama2.c's run.c is the model): the families differ only in the RoPE pairing, the FFN activation and the
/// optional sub-norms. Scratch buffers are allocated once per session, never per token.
/// </summary>
public sealed class Transformer
{
    private readonly ModelConfig _c;
    private readonly ModelWeights _w;
    private readonly float[] _x, _xb, _xb2, _q, _hb, _hb2, _attention, _logits;

    public Transformer(ModelConfig config, ModelWeights weights, int contextLength)
    {
        _c = config;
        _w = weights;
        _x = new float[config.EmbeddingLength];
        _xb = new float[Math.Max(config.EmbeddingLength, config.QueryLength)];
        _xb2 = new float[config.EmbeddingLength];
        _q = new float[config.QueryLength];
        _hb = new float[config.FeedForwardLength];
        _hb2 = new float[config.FeedForwardLength];
        _attention = new float[contextLength];
        _logits = new float[config.VocabSize];
    }

    /// <summary>Runs one token at <paramref name="position"/> (writing its keys and values) and returns the logits.</summary>
    public ReadOnlySpan<float> Forward(int token, int position, KvCache cache)
    {
        if ((uint)token >= (uint)_c.VocabSize)
            throw new ArgumentOutOfRangeException(nameof(token), token, $"token id outside the vocabulary of {_c.VocabSize}");
        if ((uint)position >= (uint)cache.ContextLength)
            throw new ArgumentOutOfRangeException(nameof(position), position, $"position past the context of {cache.ContextLength} tokens");

        var x = _x.AsSpan();
        _w.TokenEmbedding.CopyRow(token, x);
        int dim = _c.EmbeddingLength, qLen = _c.QueryLength, headDim = _c.HeadDim;
        var xb = _xb.AsSpan(0, dim);
        var attnOut = _xb.AsSpan(0, qLen);

        for (int l = 0; l < _c.BlockCount; l++)
        {
            var layer = _w.Layers[l];

            RmsNorm(x, layer.AttentionNorm, _c.RmsNormEpsilon, xb);
            var k = cache.Key(l, position);
            var v = cache.Value(l, position);
            layer.Query.Multiply(xb, _q);
            layer.Key.Multiply(xb, k);
            layer.Value.Multiply(xb, v);
            Rope(_q, position);
            Rope(k, position);

            Attend(l, position, cache, attnOut);
            if (layer.AttentionSubNorm is { } attnSub)
                RmsNorm(attnOut, attnSub, _c.RmsNormEpsilon, attnOut);
            layer.Output.Multiply(attnOut, _xb2);
            TensorPrimitives.Add(x, _xb2, x);

            RmsNorm(x, layer.FfnNorm, _c.RmsNormEpsilon, xb);
            layer.Gate.Multiply(xb, _hb);
            layer.Up.Multiply(xb, _hb2);
            Activate(_hb, _hb2);
            if (layer.FfnSubNorm is { } ffnSub)
                RmsNorm(_hb, ffnSub, _c.RmsNormEpsilon, _hb);
            layer.Down.Multiply(_hb, _xb2);
            TensorPrimitives.Add(x, _xb2, x);
        }

        RmsNorm(x, _w.OutputNorm, _c.OutputNormEpsilon, x);
        _w.Output.Multiply(x, _logits);
        return _logits;
    }

    private static void RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float epsilon, Span<float> output)
    {
        float sumOfSquares = 0;
        foreach (float v in x)
            sumOfSquares += v * v;
        float scale = 1f / MathF.Sqrt((sumOfSquares / x.Length) + epsilon);
        for (int i = 0; i < x.Length; i++)
            output[i] = weight[i] * (scale * x[i]);
    }

    private void Rope(Span<float> vector, int position)
    {
        int headDim = _c.HeadDim, half = headDim / 2;
        for (int head = 0; head < vector.Length / headDim; head++)
        {
            var h = vector.Slice(head * headDim, headDim);
            for (int i = 0; i < half; i++)
            {
                float frequency = 1f / MathF.Pow(_c.RopeFreqBase, 2f * i / headDim);
                if (_w.RopeFactors is { } factors)
                    frequency /= factors[i];
                float angle = position * frequency;
                float cos = MathF.Cos(angle), sin = MathF.Sin(angle);
                (int a, int b) = _c.Rope == RopeStyle.Norm ? (2 * i, (2 * i) + 1) : (i, i + half);
                float x0 = h[a], x1 = h[b];
                h[a] = (x0 * cos) - (x1 * sin);
                h[b] = (x0 * sin) + (x1 * cos);
            }
        }
    }

    private void Attend(int layer, int position, KvCache cache, Span<float> output)
    {
        int headDim = _c.HeadDim, group = _c.HeadCount / _c.HeadCountKv;
        float scale = 1f / MathF.Sqrt(headDim);
        var scores = _attention.AsSpan(0, position + 1);
        for (int h = 0; h < _c.HeadCount; h++)
        {
            var q = _q.AsSpan(h * headDim, headDim);
            int kvOffset = h / group * headDim;
            for (int t = 0; t <= position; t++)
                scores[t] = TensorPrimitives.Dot(q, cache.Key(layer, t).Slice(kvOffset, headDim)) * scale;
            StableSoftMax.InPlace(scores);

            var o = output.Slice(h * headDim, headDim);
            o.Clear();
            for (int t = 0; t <= position; t++)
                TensorPrimitives.MultiplyAdd(cache.Value(layer, t).Slice(kvOffset, headDim), scores[t], o, o);
        }
    }

    private void Activate(Span<float> gate, ReadOnlySpan<float> up)
    {
        for (int i = 0; i < gate.Length; i++)
        {
            float g = gate[i];
            float a = _c.Activation == FfnActivation.Silu ? g / (1f + MathF.Exp(-g)) : MathF.Max(g, 0) * MathF.Max(g, 0);
            gate[i] = a * up[i];
        }
    }
}
