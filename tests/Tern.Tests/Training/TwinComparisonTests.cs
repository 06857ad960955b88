using Tern.Training.Model;
using Tern.Training.Optimization;

namespace Tern.Tests.Training;

/// <summary>
/// One training step of the trainer (float32, as it trains) against the PyTorch twin's float64 step from the same
/// weights and batch (tools/torch-twin): logits, loss, every gradient, and the weights after clipping and AdamW.
/// </summary>
public class TwinComparisonTests
{
    public static TheoryData<string> Files() => new(TwinFixture.FileNames);

    [Theory]
    [MemberData(nameof(Files))]
    public void One_step_matches_pytorch(string file)
    {
        var twin = TwinFixture.Load(file);
        var c = twin.Config;
        var shape = new ModelShape
        {
            Architecture = TrainingArchitectures.Parse(c.Arch),
            VocabularySize = c.Vocab,
            Dim = c.Dim,
            Layers = c.Layers,
            Heads = c.Heads,
            KvHeads = c.KvHeads,
            FfnDim = c.Ffn,
            Context = c.Ctx,
            RopeTheta = (float)c.RopeTheta,
            NormEpsilon = (float)c.Eps,
            TiedEmbedding = c.Tied,
            Quantized = c.Quantized,
        };
        var layout = new ParameterLayout(shape);
        Assert.Equal(layout.Tensors.Select(t => t.Name).Order(), twin.ParameterNames.Order());
        var model = new TrainingModel<float>(layout, c.Batch);
        foreach (var tensor in layout.Tensors)
            twin.Initial(tensor.Name).Data.CopyTo(tensor.Slice(model.Parameters));

        var logits = new float[c.Batch * c.Ctx * c.Vocab];
        model.ComputeLogits(twin.Tokens, c.Batch, logits);
        AssertClose("logits", twin.Logits.Data, logits, 2e-5);

        double loss = model.ForwardBackward(twin.Tokens, twin.Targets, c.Batch);
        Assert.True(Math.Abs(loss - twin.Loss) <= 1e-5 * twin.Loss, $"loss {loss} vs PyTorch {twin.Loss}");
        foreach (var tensor in layout.Tensors)
            AssertClose("grad." + tensor.Name, twin.Gradient(tensor.Name).Data, tensor.Slice(model.Gradients).ToArray(), 1e-4);

        double norm = GradientClipping.ClipToNorm(model.Gradients, 1.0);
        Assert.True(Math.Abs(norm - twin.GradNorm) <= 1e-5 * twin.GradNorm, $"gradient norm {norm} vs PyTorch {twin.GradNorm}");
        var adam = new AdamW<float>(layout);
        adam.Update(null, model.Parameters, model.Gradients, c.LearningRate, c.WeightDecay);
        foreach (var tensor in layout.Tensors)
        {
            // A first Adam step moves each weight by about lr·sign(g): weights whose gradient is near zero move by
            // amounts that float32 gradients cannot pin down, so the step is compared as a whole here ...
            var initial = twin.Initial(tensor.Name).Data;
            var wantStep = twin.Updated(tensor.Name).Data.Select((v, i) => v - initial[i]).ToArray();
            var gotStep = tensor.Slice(model.Parameters).ToArray().Select((v, i) => v - initial[i]).ToArray();
            AssertClose("step of " + tensor.Name, wantStep, gotStep, 2e-2);
        }

        // ... and element by element from PyTorch's own gradients, which checks the optimizer exactly.
        var exact = new TrainingModel<double>(layout, 1);
        var gradients = new double[layout.Count];
        foreach (var tensor in layout.Tensors)
        {
            twin.Initial(tensor.Name).Data.Select(v => (double)v).ToArray().CopyTo(tensor.Slice(exact.Parameters));
            twin.Gradient(tensor.Name).Data.Select(v => (double)v).ToArray().CopyTo(tensor.Slice(gradients));
        }

        GradientClipping.ClipToNorm(gradients, 1.0);
        new AdamW<double>(layout).Update(null, exact.Parameters, gradients, c.LearningRate, c.WeightDecay);
        foreach (var tensor in layout.Tensors)
        {
            var want = twin.Updated(tensor.Name).Data;
            var got = tensor.Slice(exact.Parameters);
            for (int i = 0; i < want.Length; i++)
                Assert.True(Math.Abs(want[i] - got[i]) <= 1e-7 + (1e-6 * Math.Abs(want[i])), $"updated {tensor.Name}[{i}]: {got[i]} vs PyTorch {want[i]}");
        }
    }

    /// <summary>‖got − want‖ / ‖want‖ within the bound, and no element off by more than ten times the bound's share.</summary>
    private static void AssertClose(string what, float[] want, float[] got, double bound)
    {
        Assert.Equal(want.Length, got.Length);
        double diff = 0, norm = 0;
        for (int i = 0; i < want.Length; i++)
        {
            Assert.False(float.IsNaN(got[i]), $"{what}[{i}] is NaN");
            diff += (got[i] - (double)want[i]) * (got[i] - (double)want[i]);
            norm += (double)want[i] * want[i];
        }

        double relative = Math.Sqrt(diff / norm);
        Assert.True(relative <= bound, $"{what}: relative difference {relative:e2} (bound {bound:e0})");
    }
}
