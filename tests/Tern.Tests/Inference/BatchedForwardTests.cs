using Tern.Inference;

namespace Tern.Tests.Inference;

/// <summary>
/// A prompt fed in one call (chunks of tokens through the model together) gives the same logits, bit for bit, as the
/// same tokens fed one at a time, and the KV cache it leaves continues the same way.
/// </summary>
public class BatchedForwardTests : IDisposable
{
    private readonly TempFolder _dir = TestData.NewTempFolder();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string, string, int> Models => new()
    {
        { "bitllama2c/bit_model_1M.bin", "i2_s", 1 },
        { "bitllama2c/bit_model_3M.bin", "tq2_0", 2 },
        { "stories260K/stories260K.bin", "f32", 2 },
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void APromptInOneCallEqualsTokenByToken(string source, string type, int threads)
    {
        string gguf = _dir.File("m.gguf");
        var convert = Cli.TernProcess.Run("convert", TestData.SharedDataPath(["models", .. source.Split('/')]), "-o", gguf, "--type", type);
        Cli.CliAssert.Succeeded(convert);
        using var model = TernModel.Load(gguf, new TernModelOptions { Threads = threads });
        var rng = new Random(5);
        // Crosses a chunk boundary (64) and ends inside the next chunk.
        var prompt = Enumerable.Range(0, 70).Select(_ => rng.Next(model.Config.VocabSize)).ToArray();

        var single = model.CreateSession(128);
        float[] expected = [];
        foreach (int token in prompt)
            expected = single.Evaluate(token).ToArray();

        var batched = model.CreateSession(128);
        Assert.Equal(expected, batched.Evaluate(prompt).ToArray());
        Assert.Equal(prompt.Length, batched.Position);
        for (int i = 0; i < 5; i++)
        {
            int next = Session.ArgMax(expected);
            expected = single.Evaluate(next).ToArray();
            Assert.Equal(expected, batched.Evaluate(next).ToArray());
        }

        var full = model.CreateSession(71);
        full.Evaluate(prompt);
        Assert.Throws<InvalidOperationException>(() => full.Evaluate(prompt.AsSpan(0, 2)));
    }
}
