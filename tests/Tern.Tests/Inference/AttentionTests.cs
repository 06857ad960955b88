using Tern.Models;
using Tern.Runtime;

namespace Tern.Tests.Inference;

/// <summary>Causal grouped attention over the cache against the formula computed in double, for every head width path.</summary>
public class AttentionTests
{
    [Theory]
    [InlineData(128, 4, 2, 37, 5)]
    [InlineData(128, 2, 1, 1, 1)]
    [InlineData(64, 4, 4, 20, 3)]
    [InlineData(32, 8, 4, 9, 9)]
    [InlineData(256, 2, 2, 12, 2)]
    [InlineData(128, 4, 2, 150, 20)]
    [InlineData(64, 8, 2, 70, 33)]
    public void EachQueryAttendsToItsPastAsTheFormulaSays(int headDim, int heads, int kvHeads, int position, int tokens)
    {
        var config = new ModelConfig("llama", heads * headDim, 1, 4, heads, kvHeads, headDim, 8, 256, 1e-5f, 1e-5f, 10000f, RopeStyle.Norm, FfnActivation.Silu);
        var cache = new KvCache(config, 256);
        var rng = new Random(headDim + position);
        for (int p = 0; p < position + tokens; p++)
        {
            for (int i = 0; i < config.KeyValueLength; i++)
            {
                cache.Key(0, p)[i] = (float)((rng.NextDouble() * 2) - 1);
                cache.Value(0, p)[i] = (float)((rng.NextDouble() * 2) - 1);
            }
        }

        var queries = Enumerable.Range(0, tokens * config.QueryLength).Select(_ => (float)((rng.NextDouble() * 4) - 2)).ToArray();
        using var pool = new WorkerPool(2);
        foreach (var threads in new WorkerPool?[] { null, pool })
        {
            var output = new float[tokens * config.QueryLength];
            new Attention(config, 256, threads).Run(0, position, tokens, cache, queries, output);
            for (int t = 0; t < tokens; t++)
            {
                for (int h = 0; h < heads; h++)
                {
                    var expected = Reference(config, cache, queries.AsSpan((t * config.QueryLength) + (h * headDim), headDim), h, position + t);
                    for (int d = 0; d < headDim; d++)
                        Assert.Equal(expected[d], output[(t * config.QueryLength) + (h * headDim) + d], 1e-5);
                }
            }
        }
    }

    private static double[] Reference(ModelConfig c, KvCache cache, ReadOnlySpan<float> q, int head, int position)
    {
        int kv = head / (c.HeadCount / c.HeadCountKv) * c.HeadDim;
        var scores = new double[position + 1];
        for (int t = 0; t <= position; t++)
        {
            double dot = 0;
            for (int d = 0; d < c.HeadDim; d++)
                dot += q[d] * (double)cache.Key(0, t)[kv + d];
            scores[t] = dot / Math.Sqrt(c.HeadDim);
        }

        double max = scores.Max(), sum = scores.Sum(s => Math.Exp(s - max));
        var o = new double[c.HeadDim];
        for (int t = 0; t <= position; t++)
        {
            double p = Math.Exp(scores[t] - max) / sum;
            for (int d = 0; d < c.HeadDim; d++)
                o[d] += p * cache.Value(0, t)[kv + d];
        }

        return o;
    }
}
