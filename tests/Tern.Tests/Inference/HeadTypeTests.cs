using Tern.Conversion;
using Tern.Gguf;
using Tern.Inference;
using Tern.Models;

namespace Tern.Tests.Inference;

/// <summary>`HeadType` on the real bitllama2.c 3M model converted with a tied F16 embedding (its head).</summary>
public sealed class HeadTypeTests : IDisposable
{
    private readonly TempFolder _dir = TestData.NewTempFolder();
    private readonly string _model;

    public HeadTypeTests()
    {
        _model = _dir.File("bit3m-f16.gguf");
        using var source = ModelSources.Open(TestData.SharedDataPath("models", "bitllama2c", "bit_model_3M.bin"), new ModelSourceOptions());
        ModelConverter.Write(ModelConverter.Plan(source, new ConversionOptions { WeightType = GgmlType.I2_S, TokenEmbeddingType = GgmlType.F16 }), _model);
    }

    public void Dispose() => _dir.Dispose();

    /// <summary>
    /// Q8_0 rounds each weight and each activation to within half a step of its 32-block's maximum (1/254 of it),
    /// so a logit moves by at most about 0.8 % of Σ|w·x| when every element sits at its block's maximum; the errors
    /// are unbiased and independent, so over the model's rows the logits should move far less: 1 % of the logits'
    /// norm is the bound held here. Q6_K has 4× coarser weight steps (1/64 of a sub-block's range), hence 3 %.
    /// </summary>
    [Theory]
    [InlineData(GgmlType.Q8_0, 0.01)]
    [InlineData(GgmlType.Q6_K, 0.03)]
    [InlineData(GgmlType.BF16, 0.01)]
    [InlineData(GgmlType.F32, 1e-5)]
    public void ARequantizedHeadGivesLogitsCloseToTheStoredF16Head(GgmlType type, double relativeError)
    {
        using var stored = TernModel.Load(_model, new TernModelOptions { Threads = 1 });
        using var requantized = TernModel.Load(_model, new TernModelOptions { Threads = 2, HeadType = type });
        Assert.IsType<HalfWeightMatrix>(stored.Weights.Output);
        Assert.Same(stored.Weights.Output, stored.Weights.TokenEmbedding);
        Assert.NotSame(requantized.Weights.Output, requantized.Weights.TokenEmbedding);
        Assert.IsType<HalfWeightMatrix>(requantized.Weights.TokenEmbedding); // the lookup still reads the file

        var a = stored.CreateSession(16);
        var b = requantized.CreateSession(16);
        foreach (int token in new[] { 1, 403, 250, 29, 263 })
        {
            var expected = a.Evaluate(token).ToArray();
            var actual = b.Evaluate(token).ToArray();
            double error = Math.Sqrt(expected.Zip(actual, (e, v) => (double)(e - v) * (e - v)).Sum());
            double norm = Math.Sqrt(expected.Sum(e => (double)e * e));
            Assert.True(error <= relativeError * norm, $"token {token}: ‖Δ‖ = {error}, ‖logits‖ = {norm}");
            Assert.Equal(Session.ArgMax(expected), Session.ArgMax(actual));
        }
    }

    [Fact]
    public void TheStoredTypeKeepsTheHeadInPlace()
    {
        using var model = TernModel.Load(_model, new TernModelOptions { Threads = 1, HeadType = GgmlType.F16 });
        Assert.Same(model.Weights.Output, model.Weights.TokenEmbedding);
    }

    [Fact]
    public void AnUnsupportedHeadTypeIsRefused() =>
        Assert.Throws<NotSupportedException>(() => TernModel.Load(_model, new TernModelOptions { HeadType = GgmlType.Q4_0 }).Dispose());
}
