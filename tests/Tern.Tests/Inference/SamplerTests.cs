using Tern.Inference;

namespace Tern.Tests.Inference;

public class SamplerTests
{
    private static readonly float[] Logits = [1f, 3f, 2.5f, -1f, 3f];

    [Fact]
    public void TemperatureZeroIsTheArgmaxWithTheLowestIdOnTies()
    {
        var s = new Sampler(SamplingOptions.Greedy, Logits.Length);
        Assert.Equal(1, s.Sample(Logits));
    }

    [Fact]
    public void OnlyTemperatureZeroWithoutARepetitionPenaltyLetsTheSessionPick()
    {
        Assert.True(new Sampler(SamplingOptions.Greedy, Logits.Length).IsGreedy);
        Assert.True(new Sampler(SamplingOptions.Greedy with { RepeatPenalty = 1.3f, RepeatLastN = 0 }, Logits.Length).IsGreedy);
        Assert.False(new Sampler(SamplingOptions.Greedy with { RepeatPenalty = 1.3f }, Logits.Length).IsGreedy);
        Assert.False(new Sampler(new SamplingOptions { TopK = 1 }, Logits.Length).IsGreedy);
        Assert.False(new Sampler(new SamplingOptions(), Logits.Length).IsGreedy);
    }

    [Fact]
    public void TopKOfOneIsGreedyAtAnyTemperature()
    {
        var s = new Sampler(new SamplingOptions { Temperature = 5f, TopK = 1, Seed = 3 }, Logits.Length);
        for (int i = 0; i < 50; i++)
            Assert.Equal(1, s.Sample(Logits));
    }

    [Fact]
    public void TheSameSeedGivesTheSameDraws()
    {
        var options = new SamplingOptions { Temperature = 1f, TopK = 0, TopP = 1f, MinP = 0f, Seed = 1234 };
        var a = new Sampler(options, Logits.Length);
        var b = new Sampler(options, Logits.Length);
        var first = Enumerable.Range(0, 100).Select(_ => a.Sample(Logits)).ToArray();
        Assert.Equal(first, Enumerable.Range(0, 100).Select(_ => b.Sample(Logits)).ToArray());
        Assert.True(first.Distinct().Count() >= 3, "temperature 1 over five tokens should visit several");
    }

    [Fact]
    public void DrawsFollowTheSoftmax()
    {
        // p = [0.5, 0.3, 0.2]: logits ln p.
        float[] logits = [MathF.Log(0.5f), MathF.Log(0.3f), MathF.Log(0.2f)];
        var s = new Sampler(new SamplingOptions { Temperature = 1f, TopK = 0, TopP = 1f, MinP = 0f, Seed = 99 }, 3);
        var counts = new int[3];
        const int draws = 20000;
        for (int i = 0; i < draws; i++)
            counts[s.Sample(logits)]++;
        Assert.Equal(0.5, counts[0] / (double)draws, 0.02);
        Assert.Equal(0.3, counts[1] / (double)draws, 0.02);
        Assert.Equal(0.2, counts[2] / (double)draws, 0.02);
    }

    [Fact]
    public void TopPAndMinPCutTheTail()
    {
        float[] logits = [MathF.Log(0.5f), MathF.Log(0.3f), MathF.Log(0.2f)];
        // top-p 0.6: 0.5 < 0.6 ≤ 0.8, so tokens 0 and 1 remain.
        var topP = new Sampler(new SamplingOptions { Temperature = 1f, TopK = 0, TopP = 0.6f, MinP = 0f, Seed = 5 }, 3);
        Assert.DoesNotContain(2, Enumerable.Range(0, 2000).Select(_ => topP.Sample(logits)));
        // min-p 0.5: keep p ≥ 0.25, so tokens 0 and 1 remain.
        var minP = new Sampler(new SamplingOptions { Temperature = 1f, TopK = 0, TopP = 1f, MinP = 0.5f, Seed = 5 }, 3);
        var seen = Enumerable.Range(0, 2000).Select(_ => minP.Sample(logits)).ToHashSet();
        Assert.Equal([0, 1], seen.Order());
    }

    [Fact]
    public void RepetitionPenaltyMovesGreedyOffRecentTokens()
    {
        // Token 1 (3.0) halves to 1.5 when recent, so token 2 (2.5) wins; token 4 ties at 3.0 but was also seen.
        var s = new Sampler(new SamplingOptions { Temperature = 0, RepeatPenalty = 2f }, Logits.Length);
        Assert.Equal(2, s.Sample(Logits, [1, 4]));
    }

    [Fact]
    public void BadOptionsAreRefused()
    {
        Assert.Throws<ArgumentException>(() => new Sampler(new SamplingOptions { Temperature = -1 }, 4));
        Assert.Throws<ArgumentException>(() => new Sampler(new SamplingOptions { TopP = 0 }, 4));
        Assert.Throws<ArgumentException>(() => new Sampler(new SamplingOptions { MinP = 2 }, 4));
        Assert.Throws<ArgumentException>(() => new Sampler(new SamplingOptions { TopK = -1 }, 4));
    }
}
