namespace Tern.Tests.Training;

/// <summary>
/// The committed PyTorch-twin fixtures agree with themselves and with docs/training.md, so that a trainer test that
/// fails against them points at the trainer, not at a stale or damaged file.
/// </summary>
public class TwinFixtureTests
{
    public static TheoryData<string> Files => new(TwinFixture.FileNames);

    [Theory]
    [MemberData(nameof(Files))]
    public void ParametersAreTheContractsWithTheirShapes(string fileName)
    {
        var f = TwinFixture.Load(fileName);
        var expected = ExpectedShapes(f.Config);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), f.ParameterNames.Order(StringComparer.Ordinal));
        foreach (var name in f.ParameterNames)
        {
            Assert.Equal(expected[name], f.Initial(name).Shape);
            Assert.Equal(expected[name], f.Gradient(name).Shape);
            Assert.Equal(expected[name], f.Updated(name).Shape);
        }
        int positions = f.Config.Batch * f.Config.Ctx;
        Assert.Equal(positions, f.Tokens.Length);
        Assert.Equal(positions, f.Targets.Length);
        Assert.All(f.Tokens.Concat(f.Targets), t => Assert.InRange(t, 0, f.Config.Vocab - 1));
        Assert.Equal([f.Config.Batch, f.Config.Ctx, f.Config.Vocab], f.Logits.Shape);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void LossIsTheMeanCrossEntropyOfTheStoredLogits(string fileName)
    {
        var f = TwinFixture.Load(fileName);
        int vocab = f.Config.Vocab;
        double sum = 0;
        for (int p = 0; p < f.Targets.Length; p++)
        {
            var row = f.Logits.Data.AsSpan(p * vocab, vocab);
            double max = double.NegativeInfinity;
            foreach (float z in row)
                max = Math.Max(max, z);
            double exps = 0;
            foreach (float z in row)
                exps += Math.Exp(z - max);
            sum += max + Math.Log(exps) - row[f.Targets[p]];
        }
        double loss = sum / f.Targets.Length;
        Assert.True(Math.Abs(loss - f.Loss) <= 1e-5 * f.Loss, $"recomputed loss {loss} vs stored {f.Loss}");
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void GradNormIsTheL2NormOfEveryGradient(string fileName)
    {
        var f = TwinFixture.Load(fileName);
        double squares = f.ParameterNames.Sum(n => f.Gradient(n).Data.Sum(g => (double)g * g));
        Assert.True(Math.Abs(Math.Sqrt(squares) - f.GradNorm) <= 1e-5 * f.GradNorm, $"{Math.Sqrt(squares)} vs {f.GradNorm}");
    }

    /// <summary>
    /// From zero moments AdamW's first step is w·(1 − lr·wd) − lr·ĝ / (|ĝ| + ε), ĝ the clipped gradient (bias
    /// correction cancels (1 − β) in both moments), so every updated weight follows from the stored gradient.
    /// </summary>
    [Theory]
    [MemberData(nameof(Files))]
    public void UpdatedWeightsAreOneClippedAdamWStep(string fileName)
    {
        var f = TwinFixture.Load(fileName);
        double lr = f.Config.LearningRate, clip = Math.Min(1.0, 1.0 / f.GradNorm);
        foreach (var name in f.ParameterNames)
        {
            double decay = name.EndsWith("norm.weight", StringComparison.Ordinal) ? 0 : f.Config.WeightDecay;
            float[] w = f.Initial(name).Data, g = f.Gradient(name).Data, updated = f.Updated(name).Data;
            Assert.Contains(w.Zip(updated), pair => pair.First != pair.Second);
            for (int i = 0; i < w.Length; i++)
            {
                double clipped = g[i] * clip;
                double expected = w[i] * (1 - (lr * decay)) - (lr * clipped / (Math.Abs(clipped) + 1e-8));
                Assert.True(Math.Abs(expected - updated[i]) <= 1e-6, $"{name}[{i}]: {updated[i]} stored, {expected} from the gradient");
            }
        }
    }

    private static Dictionary<string, int[]> ExpectedShapes(TwinConfig c)
    {
        int q = c.Heads * c.HeadDim, kv = c.KvHeads * c.HeadDim;
        var shapes = new Dictionary<string, int[]> { ["token_embd.weight"] = [c.Vocab, c.Dim], ["output_norm.weight"] = [c.Dim] };
        if (!c.Tied)
            shapes["output.weight"] = [c.Vocab, c.Dim];
        for (int i = 0; i < c.Layers; i++)
        {
            string b = $"blk.{i}.";
            shapes[b + "attn_norm.weight"] = [c.Dim];
            shapes[b + "attn_q.weight"] = [q, c.Dim];
            shapes[b + "attn_k.weight"] = [kv, c.Dim];
            shapes[b + "attn_v.weight"] = [kv, c.Dim];
            shapes[b + "attn_output.weight"] = [c.Dim, q];
            shapes[b + "ffn_norm.weight"] = [c.Dim];
            shapes[b + "ffn_gate.weight"] = [c.Ffn, c.Dim];
            shapes[b + "ffn_up.weight"] = [c.Ffn, c.Dim];
            shapes[b + "ffn_down.weight"] = [c.Dim, c.Ffn];
            if (c.HasSubNorms)
            {
                shapes[b + "attn_sub_norm.weight"] = [q];
                shapes[b + "ffn_sub_norm.weight"] = [c.Ffn];
            }
        }
        return shapes;
    }
}
