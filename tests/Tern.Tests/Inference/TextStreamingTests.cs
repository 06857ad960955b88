using Tern.Inference;

namespace Tern.Tests.Inference;

/// <summary>TextGenerator's asynchronous text stream on the real 3M model.</summary>
public class TextStreamingTests(Bit3MModel bit3m) : IClassFixture<Bit3MModel>
{
    [Fact]
    public async Task StreamedPiecesConcatenateToTheGreedyText()
    {
        var generator = new TextGenerator(bit3m.Model.CreateSession(128), bit3m.Tokenizer);
        var pieces = new List<string>();
        await foreach (string piece in generator.GenerateTextAsync("Once upon a time", 24, SamplingOptions.Greedy))
            pieces.Add(piece);

        Assert.All(pieces, p => Assert.NotEmpty(p));
        Assert.True(pieces.Count >= 20, $"{pieces.Count} pieces for 24 tokens: not streamed token by token");
        Assert.Equal(bit3m.GreedyText("Once upon a time", 24), string.Concat(pieces));
        Assert.Equal(24, generator.Statistics.GeneratedTokens);
    }

    [Fact]
    public async Task CancellationStopsTheStream()
    {
        var generator = new TextGenerator(bit3m.Model.CreateSession(128), bit3m.Tokenizer);
        using var cancel = new CancellationTokenSource();
        int pieces = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (string piece in generator.GenerateTextAsync("Once upon a time", 100, SamplingOptions.Greedy, cancel.Token))
            {
                if (++pieces == 3)
                    await cancel.CancelAsync();
            }
        });
        Assert.Equal(3, pieces);
        Assert.True(generator.Session.Position < 20, $"the session went on to position {generator.Session.Position}");
    }
}
