using Tern.Runtime;
using Tern.Training.Layers;
using Tern.Training.Model;
using Tern.Training.Randomness;

namespace Tern.Tests.Training;

/// <summary>
/// Dropout on the attention probabilities (docs/training.md): the mask's density, the output as the definition writes
/// it, and p = 0 as exactly no dropout. The gradients are checked in <see cref="GradientCheckTests"/>, the trainer's
/// determinism and its evaluation in <see cref="TrainerTests"/>.
/// </summary>
public class AttentionDropoutTests
{
    [Theory]
    [InlineData(0.1)]
    [InlineData(0.3)]
    [InlineData(0.5)]
    public void The_mask_keeps_about_one_minus_p_of_the_weights(double p)
    {
        const int batch = 4, heads = 4, context = 64;
        var mask = new AttentionDropout(p, CounterHash.Derive(7, 3));
        int kept = 0, total = 0;
        for (int b = 0; b < batch; b++)
        {
            for (int h = 0; h < heads; h++)
            {
                for (int i = 0; i < context; i++)
                {
                    for (int j = 0; j <= i; j++)
                    {
                        total++;
                        kept += mask.Keeps(AttentionDropout.Counter(b, h, i, j, heads, context)) ? 1 : 0;
                    }
                }
            }
        }

        // 33,280 weights: one standard deviation of the kept fraction is at most 0.003.
        Assert.InRange((double)kept / total, 1 - p - 0.015, 1 - p + 0.015);
    }

    [Fact]
    public void The_counter_is_the_weights_index_in_batch_heads_queries_keys()
    {
        Assert.Equal(0UL, AttentionDropout.Counter(0, 0, 0, 0, 3, 7));
        Assert.Equal((ulong)((((1 * 3) + 2) * 7) + 4) * 7 + 5, AttentionDropout.Counter(1, 2, 4, 5, 3, 7));
        // Past 2³² (a large batch of long contexts) nothing wraps.
        Assert.Equal(((((999UL * 32) + 31) * 4096) + 4095) * 4096 + 4095, AttentionDropout.Counter(999, 31, 4095, 4095, 32, 4096));
    }

    [Fact]
    public void Probability_zero_keeps_every_weight_with_factor_one()
    {
        var off = new AttentionDropout(0, 12345);
        Assert.False(off.IsOn);
        Assert.False(default(AttentionDropout).IsOn);
        for (ulong counter = 0; counter < 1000; counter++)
        {
            Assert.True(off.Keeps(counter));
            Assert.Equal(1.0, off.Factor(counter, 2.0));
        }
    }

    [Fact]
    public void The_output_reads_the_dropped_weights_and_the_kept_weights_stay_undropped()
    {
        const int batch = 2, heads = 4, kvHeads = 2, headDim = 4, context = 6;
        const double p = 0.4;
        var random = new Random(3);
        double[] Random(int n) => Enumerable.Range(0, n).Select(_ => random.NextDouble() - 0.5).ToArray();
        int rows = batch * context;
        double[] q = Random(rows * heads * headDim), k = Random(rows * kvHeads * headDim), v = Random(rows * kvHeads * headDim);
        var attention = new CausalAttention<double>(heads, kvHeads, headDim, context);
        var probabilities = new double[attention.ProbabilityLength(batch)];
        var output = new double[rows * heads * headDim];
        var mask = new AttentionDropout(p, CounterHash.Derive(11, 3));
        using var pool = new WorkerPool(2);
        attention.Forward(pool, batch, q, k, v, probabilities, output, mask);

        int dropped = 0;
        for (int b = 0; b < batch; b++)
        {
            for (int h = 0; h < heads; h++)
            {
                int g = h / (heads / kvHeads);
                for (int i = 0; i < context; i++)
                {
                    var weights = probabilities.AsSpan((((b * heads) + h) * context + i) * context, i + 1);
                    Assert.Equal(1.0, weights.ToArray().Sum(), 12);
                    for (int c = 0; c < headDim; c++)
                    {
                        double expected = 0;
                        for (int j = 0; j <= i; j++)
                        {
                            bool keeps = mask.Keeps(AttentionDropout.Counter(b, h, i, j, heads, context));
                            dropped += keeps || c > 0 ? 0 : 1;
                            expected += keeps ? weights[j] / (1 - p) * v[((((b * context) + j) * kvHeads) + g) * headDim + c] : 0;
                        }

                        Assert.Equal(expected, output[((((b * context) + i) * heads) + h) * headDim + c], 12);
                    }
                }
            }
        }

        Assert.InRange(dropped, 10, 100);
    }

    [Fact]
    public void Probability_zero_is_exactly_no_dropout_and_evaluation_never_drops()
    {
        var shape = new ModelShape
        {
            Architecture = TrainingArchitecture.Llama, VocabularySize = 13, Dim = 16, Layers = 2, Heads = 4, KvHeads = 2, FfnDim = 24,
            Context = 8, Quantized = false,
        };
        var layout = new ParameterLayout(shape);
        var random = new Random(8);
        int rows = 2 * shape.Context;
        var tokens = Enumerable.Range(0, rows).Select(_ => random.Next(shape.VocabularySize)).ToArray();
        var targets = Enumerable.Range(0, rows).Select(_ => random.Next(shape.VocabularySize)).ToArray();
        (double Loss, float[] Gradients, double Evaluated, float[] Logits) Step(double attentionDropout, ulong key)
        {
            var model = new TrainingModel<float>(layout, 2) { AttentionDropoutProbability = attentionDropout };
            ParameterInitializer.Initialize(layout, model.Parameters, 5);
            double loss = model.ForwardBackward(tokens, targets, 2, key);
            var logits = new float[rows * shape.VocabularySize];
            model.ComputeLogits(tokens, 2, logits);
            return (loss, model.Gradients, model.Evaluate(tokens, targets, 2), logits);
        }

        var off = Step(0, 1);
        var offOtherKey = Step(0, 2);
        var on = Step(0.5, 1);
        Assert.Equal(off.Loss, offOtherKey.Loss);
        Assert.Equal(off.Gradients, offOtherKey.Gradients);
        Assert.NotEqual(off.Loss, on.Loss);
        Assert.Equal(off.Evaluated, on.Evaluated);
        Assert.Equal(off.Logits, on.Logits);
    }
}
