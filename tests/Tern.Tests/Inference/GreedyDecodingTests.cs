using Tern.Inference;

namespace Tern.Tests.Inference;

/// <summary>
/// Greedy decoding without the logits (<see cref="Session.EvaluateGreedy"/>) against ArgMax of the logits, on the
/// real 3M model, and the ArgMax rules that a device's argmax must reproduce: ties go to the lowest id, NaN is never
/// picked, and a NaN at id 0 is never left.
/// </summary>
public class GreedyDecodingTests(Bit3MModel bit3m) : IClassFixture<Bit3MModel>
{
    public static TheoryData<float[], int> ArgMaxCases => new()
    {
        { [1f], 0 },
        { [1f, 3f, 2.5f, -1f, 3f], 1 },
        { [float.NegativeInfinity, float.NegativeInfinity], 0 },
        { [float.NegativeInfinity, -3e38f], 1 },
        { [-0f, 0f], 0 },
        { [0f, -0f, 0f], 0 },
        { [-1f, float.NaN, -2f, -0.5f, float.NaN], 3 },
        { [2f, float.NaN, float.PositiveInfinity, float.PositiveInfinity], 2 },
        { [float.NaN, 1f, 5f, float.PositiveInfinity], 0 },
        { [float.NaN, float.NaN], 0 },
        { [-5f, float.NaN, float.NaN], 0 },
    };

    [Theory]
    [MemberData(nameof(ArgMaxCases))]
    public void ArgMaxTakesTheLowestIdOfTheLargestAndNeverMovesToANaN(float[] logits, int expected) =>
        Assert.Equal(expected, Session.ArgMax(logits));

    [Fact]
    public void EvaluateGreedyIsTheArgMaxOfEvaluateStepAfterStep()
    {
        var model = bit3m.Model;
        using var withLogits = model.CreateSession(200);
        using var greedy = model.CreateSession(200);
        int[] prompt = bit3m.Tokenizer.Encode("Once upon a time", bit3m.Tokenizer.AddBos, parseSpecial: true);
        int expected = Session.ArgMax(withLogits.Evaluate(prompt));
        int actual = Session.ArgMax(greedy.Evaluate(prompt));
        var seen = new HashSet<int>();
        for (int step = 0; step < 150; step++)
        {
            Assert.Equal(expected, actual);
            seen.Add(expected);
            expected = Session.ArgMax(withLogits.Evaluate(expected));
            actual = greedy.EvaluateGreedy(actual);
            Assert.Equal(withLogits.Position, greedy.Position);
        }

        Assert.Equal(expected, actual);
        Assert.True(seen.Count > 10, $"only {seen.Count} distinct tokens in 150 steps: the comparison says little");
    }

    [Fact]
    public void EvaluateGreedyStopsAtTheEndOfTheContextAsEvaluateDoes()
    {
        using var session = bit3m.Model.CreateSession(3);
        int token = bit3m.Tokenizer.BosId;
        for (int i = 0; i < 3; i++)
            token = session.EvaluateGreedy(token);
        Assert.Equal(3, session.Position);
        Assert.Throws<InvalidOperationException>(() => session.EvaluateGreedy(token));
        Assert.Throws<InvalidOperationException>(() => session.Evaluate(token));
        Assert.Equal(3, session.Position);

        session.Rewind(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => session.EvaluateGreedy(bit3m.Model.Config.VocabSize));
    }

    [Fact]
    public void GreedyGenerationGivesTheTokensOfArgMaxOverTheLogits()
    {
        using var session = bit3m.Model.CreateSession(128);
        var generator = new TextGenerator(session, bit3m.Tokenizer);
        int[] prompt = generator.Tokenize("Once upon a time");
        var generated = generator.Generate(prompt, 40, SamplingOptions.Greedy).Where(t => t.Id >= 0).Select(t => t.Id).ToList();

        using var reference = bit3m.Model.CreateSession(128);
        int token = Session.ArgMax(reference.Evaluate(prompt));
        var expected = new List<int>();
        while (expected.Count < 40 && !bit3m.Tokenizer.IsEndOfGeneration(token))
        {
            expected.Add(token);
            token = Session.ArgMax(reference.Evaluate(token));
        }

        Assert.Equal(expected, generated);
    }
}
