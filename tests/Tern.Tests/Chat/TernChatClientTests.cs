using Microsoft.Extensions.AI;
using Tern.Chat;
using Tern.Inference;
using Tern.Tests.Inference;

namespace Tern.Tests.Chat;

/// <summary>
/// TernChatClient end to end on the real bitllama2.c 3M model (a TinyStories model: no chat format, so the plain
/// template). Greedy replies must be exactly the text TextGenerator produces for the same prompt.
/// </summary>
public class TernChatClientTests(Bit3MModel bit3m) : IClassFixture<Bit3MModel>
{
    private const string FirstPrompt = "System: You tell stories.\nUser: Tell me about a cat.\nAssistant:";

    private static readonly ChatMessage[] First =
    [
        new(ChatRole.System, "You tell stories."),
        new(ChatRole.User, "Tell me about a cat."),
    ];

    private static ChatOptions Greedy(int maxTokens) => new() { Temperature = 0, MaxOutputTokens = maxTokens };

    private TernChatClient NewClient(int? context = null) => new(bit3m.Model, bit3m.Tokenizer, new TernChatClientOptions { ContextLength = context });

    [Fact]
    public async Task TheReplyIsTheGreedyTextOfTheFormattedPrompt()
    {
        using var client = NewClient();
        Assert.Same(ChatTemplate.Plain, client.Template);
        var generator = new TextGenerator(bit3m.Model.CreateSession(), bit3m.Tokenizer);
        Assert.Equal(generator.Tokenize(FirstPrompt), client.TokenizePrompt(First));

        var response = await client.GetResponseAsync(First, Greedy(24));

        Assert.Equal(bit3m.GreedyText(FirstPrompt, 24), response.Text);
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal("bit_model_3M", response.ModelId);
        Assert.Equal(ChatRole.Assistant, Assert.Single(response.Messages).Role);
        Assert.Equal(generator.Tokenize(FirstPrompt).Length, response.Usage!.InputTokenCount);
        Assert.Equal(24, response.Usage.OutputTokenCount);
        Assert.Equal(response.Usage.InputTokenCount + 24, response.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task StreamingUpdatesConcatenateToTheSameText()
    {
        using var client = NewClient();
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync(First, Greedy(24)))
            updates.Add(update);

        string expected = bit3m.GreedyText(FirstPrompt, 24);
        Assert.Equal(expected, string.Concat(updates.Select(u => u.Text)));
        Assert.True(updates.Count(u => u.Text.Length > 0) >= 20, "the reply did not stream token by token");
        Assert.All(updates, u => Assert.Equal(ChatRole.Assistant, u.Role));
        var last = updates[^1];
        Assert.Equal(ChatFinishReason.Length, last.FinishReason);
        Assert.Equal(24, Assert.Single(last.Contents.OfType<UsageContent>()).Details.OutputTokenCount);
        // Microsoft.Extensions.AI's own merge of the updates agrees.
        var merged = updates.ToChatResponse();
        Assert.Equal(expected, merged.Text);
        Assert.Equal(24, merged.Usage!.OutputTokenCount);
    }

    [Fact]
    public async Task CancellationStopsGenerationAndTheNextCallIsUnharmed()
    {
        using var client = NewClient();
        using var cancel = new CancellationTokenSource();
        int texts = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync(First, Greedy(200), cancel.Token))
            {
                if (update.Text.Length > 0 && ++texts == 3)
                    await cancel.CancelAsync();
            }
        });
        Assert.Equal(3, texts);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetResponseAsync(First, Greedy(8), cancel.Token));
        // The cache kept what the cancelled call evaluated; the same conversation now reuses it and gives the same reply.
        var response = await client.GetResponseAsync(First, Greedy(24));
        Assert.Equal(bit3m.GreedyText(FirstPrompt, 24), response.Text);
    }

    [Fact]
    public async Task StopSequencesEndTheReplyBeforeThem()
    {
        string full = bit3m.GreedyText(FirstPrompt, 24);
        string stop = full.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3];
        using var client = NewClient();
        var options = Greedy(24);
        options.StopSequences = [stop];

        var response = await client.GetResponseAsync(First, options);

        Assert.Equal(full[..full.IndexOf(stop, StringComparison.Ordinal)], response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.True(response.Usage!.OutputTokenCount < 24);
    }

    [Fact]
    public async Task ANextTurnReusesTheCacheAndRepliesAsAFreshClientWould()
    {
        using var client = NewClient();
        var first = await client.GetResponseAsync(First, Greedy(16));
        Assert.Equal(0, first.Usage!.CachedInputTokenCount);
        ChatMessage[] second = [.. First, .. first.Messages, new(ChatRole.User, "What happened next?")];

        var reused = await client.GetResponseAsync(second, Greedy(16));
        using var fresh = NewClient();
        var expected = await fresh.GetResponseAsync(second, Greedy(16));

        Assert.Equal(expected.Text, reused.Text);
        Assert.Equal(0, expected.Usage!.CachedInputTokenCount);
        // At least the first prompt was not evaluated again (the reply's tokens are reused too, as far as the
        // conversation's tokenization agrees with the generated ids).
        Assert.True(reused.Usage!.CachedInputTokenCount >= first.Usage.InputTokenCount, $"{reused.Usage.CachedInputTokenCount} tokens reused");
        Assert.Equal(expected.Usage.InputTokenCount, reused.Usage.InputTokenCount);

        // A different conversation shares only its start with the cache and still gets a fresh client's reply.
        ChatMessage[] other = [new(ChatRole.User, "Where is the dog?")];
        Assert.Equal((await fresh.GetResponseAsync(other, Greedy(12))).Text, (await client.GetResponseAsync(other, Greedy(12))).Text);
    }

    [Fact]
    public async Task ConcurrentCallersGetTheRepliesTheyWouldGetAlone()
    {
        ChatMessage[] other = [new(ChatRole.User, "Where is the dog?")];
        using var client = NewClient();
        using var second = NewClient();
        string alone1 = (await client.GetResponseAsync(First, Greedy(16))).Text;
        string alone2 = (await client.GetResponseAsync(other, Greedy(16))).Text;

        // One client called from several tasks, and two clients of the same model: the model computes one at a time.
        var replies = await Task.WhenAll(
            client.GetResponseAsync(First, Greedy(16)), client.GetResponseAsync(other, Greedy(16)),
            second.GetResponseAsync(First, Greedy(16)), second.GetResponseAsync(other, Greedy(16)));

        Assert.Equal([alone1, alone2, alone1, alone2], replies.Select(r => r.Text));
    }

    [Fact]
    public async Task TheContextBoundsTheConversationAndTheReply()
    {
        using var client = NewClient(context: 64);
        int prompt = client.TokenizePrompt(First).Length;
        var cut = await client.GetResponseAsync(First, Greedy(100));
        Assert.Equal(ChatFinishReason.Length, cut.FinishReason);
        Assert.InRange(cut.Usage!.OutputTokenCount!.Value, 64 - prompt, 64 - prompt + 1);

        ChatMessage[] tooLong = [new(ChatRole.User, string.Join(' ', Enumerable.Repeat("The cat sat on the mat.", 20)))];
        var e = await Assert.ThrowsAsync<ArgumentException>(() => client.GetResponseAsync(tooLong));
        Assert.Contains("longer than the context of 64 tokens", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OptionsChooseSamplingAndInstructions()
    {
        using var client = NewClient();
        var sampled = new ChatOptions { Temperature = 0.9f, TopK = 20, TopP = 0.9f, Seed = 1234, MaxOutputTokens = 16 };
        string a = (await client.GetResponseAsync(First, sampled)).Text;
        string b = (await client.GetResponseAsync(First, sampled.Clone())).Text;
        Assert.Equal(a, b);

        var instructions = new ChatOptions { Instructions = "You tell stories." };
        Assert.Equal(client.TokenizePrompt(First), client.TokenizePrompt([First[1]], instructions));

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.GetResponseAsync(First, new ChatOptions { MaxOutputTokens = -1 }));
        await Assert.ThrowsAsync<ArgumentException>(() => client.GetResponseAsync(First, new ChatOptions { TopP = 0 }));
    }

    [Fact]
    public void ServicesAndMetadata()
    {
        using IChatClient client = NewClient();
        var metadata = client.GetService<ChatClientMetadata>()!;
        Assert.Equal("tern", metadata.ProviderName);
        Assert.Equal("bit_model_3M", metadata.DefaultModelId);
        Assert.Same(bit3m.Model, client.GetService<TernModel>());
        Assert.Same(client, client.GetService<TernChatClient>());
        Assert.Null(client.GetService<TernModel>("some key"));
    }
}
