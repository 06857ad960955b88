using Tern.Runtime;
using Tern.Training.Model;

namespace Tern.Tests.Training;

/// <summary>
/// Every parameter's gradient against central finite differences in float64 with quantization off, through every
/// layer of both architectures (so each layer's backward pass, and the chain between them, is checked), with dropout
/// and attention dropout (the masks are fixed by the key, so the loss is a smooth function of the weights).
/// </summary>
public class GradientCheckTests
{
    public static TheoryData<string, bool, int, double, double> Cases() => new()
    {
        { "bitnet-b1.58", true, 1, 0.0, 0.0 },
        { "bitnet-b1.58", false, 2, 0.0, 0.0 },
        { "llama", false, 1, 0.0, 0.0 },
        { "llama", true, 2, 0.0, 0.0 },
        { "bitnet-b1.58", true, 1, 0.25, 0.0 },
        { "bitnet-b1.58", false, 1, 0.0, 0.3 },
        { "llama", true, 1, 0.2, 0.3 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Analytic_gradients_match_finite_differences(string arch, bool tied, int kvHeads, double dropout, double attentionDropout)
    {
        var shape = new ModelShape
        {
            Architecture = TrainingArchitectures.Parse(arch),
            VocabularySize = 11,
            Dim = 8,
            Layers = 2,
            Heads = 2,
            KvHeads = kvHeads,
            FfnDim = 12,
            Context = 5,
            TiedEmbedding = tied,
            Quantized = false,
        };
        var layout = new ParameterLayout(shape);
        using var pool = new WorkerPool(2);
        var model = new TrainingModel<double>(layout, batchCapacity: 2, pool)
        {
            DropoutProbability = dropout,
            AttentionDropoutProbability = attentionDropout,
        };
        var random = new Random(42);
        foreach (var tensor in layout.Tensors)
        {
            var values = tensor.Slice(model.Parameters);
            for (int i = 0; i < values.Length; i++)
                values[i] = tensor.Kind == ParameterKind.Norm ? 1 + (0.2 * (random.NextDouble() - 0.5)) : 0.6 * (random.NextDouble() - 0.5);
        }

        int rows = 2 * shape.Context;
        var tokens = Enumerable.Range(0, rows).Select(_ => random.Next(shape.VocabularySize)).ToArray();
        var targets = Enumerable.Range(0, rows).Select(_ => random.Next(shape.VocabularySize)).ToArray();
        const ulong key = 1234;

        Array.Clear(model.Gradients);
        model.ForwardBackward(tokens, targets, 2, key);
        var analytic = (double[])model.Gradients.Clone();

        const double h = 1e-5;
        double worst = 0;
        string worstAt = "";
        foreach (var tensor in layout.Tensors)
        {
            for (int i = 0; i < tensor.Length; i++)
            {
                long index = tensor.Offset + i;
                double saved = model.Parameters[index];
                model.Parameters[index] = saved + h;
                double up = model.ForwardBackward(tokens, targets, 2, key);
                model.Parameters[index] = saved - h;
                double down = model.ForwardBackward(tokens, targets, 2, key);
                model.Parameters[index] = saved;
                double numeric = (up - down) / (2 * h);
                double error = Math.Abs(numeric - analytic[index]) / (1e-6 + Math.Abs(numeric));
                if (error > worst)
                    (worst, worstAt) = (error, $"{tensor.Name}[{i}]: analytic {analytic[index]:e6}, numeric {numeric:e6}");
            }
        }

        Assert.True(worst < 1e-4, $"worst relative error {worst:e3} at {worstAt}");
        Assert.Contains(analytic, g => Math.Abs(g) > 1e-3);
    }
}
