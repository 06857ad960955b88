using System.ClientModel;
using System.Text;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using Tern.Chat;
using ChatMessage = Microsoft.Extensions.AI.ChatMessage;
using ChatRole = Microsoft.Extensions.AI.ChatRole;

namespace Tern.Tests.Server;

/// <summary>
/// The official OpenAI client, and Microsoft.Extensions.AI's IChatClient over it, talking to `tern serve` on
/// loopback: what they get is what the library gives for the same conversation.
/// </summary>
public sealed class OpenAIClientTests(ServedBit3M served) : IClassFixture<ServedBit3M>
{
    private static readonly ApiKeyCredential AnyKey = new("no-key-needed");

    private ChatClient OpenAIChat => new("bit3m", AnyKey, new OpenAIClientOptions { Endpoint = new Uri(served.Server.Address, "v1") });

    [Fact]
    public async Task ACompletionIsTheLibrarysReplyWithItsUsage()
    {
        ChatCompletion completion = await OpenAIChat.CompleteChatAsync(
            [new SystemChatMessage("You tell stories."), new UserChatMessage("Tell me about a cat.")],
            new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 24 });

        var expected = await LibraryReplyAsync(24, new ChatMessage(ChatRole.System, "You tell stories."), new ChatMessage(ChatRole.User, "Tell me about a cat."));
        Assert.Equal(expected.Text, completion.Content[0].Text);
        Assert.NotEmpty(completion.Content[0].Text);
        Assert.Equal("bit3m", completion.Model);
        Assert.Equal(OpenAI.Chat.ChatFinishReason.Length, completion.FinishReason);
        Assert.Equal(expected.Usage!.InputTokenCount, completion.Usage.InputTokenCount);
        Assert.Equal(24, completion.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task AStreamedChatArrivesInPiecesThatMakeTheLibrarysReply()
    {
        var text = new StringBuilder();
        int pieces = 0;
        OpenAI.Chat.ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in OpenAIChat.CompleteChatStreamingAsync(
            [new UserChatMessage("Once upon a time there was a dog.")], new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 32 }))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
                pieces++;
            }

            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }

        var expected = await LibraryReplyAsync(32, new ChatMessage(ChatRole.User, "Once upon a time there was a dog."));
        Assert.Equal(expected.Text, text.ToString());
        // One event per token: 32 tokens make many pieces, not one block of text.
        Assert.True(pieces >= 16, $"{pieces} pieces");
        Assert.Equal(OpenAI.Chat.ChatFinishReason.Length, finish);
        Assert.NotNull(usage);
        Assert.Equal(32, usage.OutputTokenCount);
    }

    [Fact]
    public async Task ASeededRequestRepeatsExactlyAndAnotherSeedDiffers()
    {
#pragma warning disable OPENAI001 // Seed is marked experimental in the OpenAI client.
        ChatCompletionOptions Seeded(long seed) => new() { Temperature = 1, MaxOutputTokenCount = 40, Seed = seed };
#pragma warning restore OPENAI001
        List<OpenAI.Chat.ChatMessage> messages = [new UserChatMessage("Tell me a story.")];
        string first = (await OpenAIChat.CompleteChatAsync(messages, Seeded(7))).Value.Content[0].Text;
        string again = (await OpenAIChat.CompleteChatAsync(messages, Seeded(7))).Value.Content[0].Text;
        var others = new List<string>();
        for (long seed = 8; seed < 12; seed++)
            others.Add((await OpenAIChat.CompleteChatAsync(messages, Seeded(seed))).Value.Content[0].Text);

        Assert.NotEmpty(first);
        Assert.Equal(first, again);
        Assert.Contains(others, other => other != first);
    }

    [Fact]
    public async Task MicrosoftExtensionsAIOverTheOpenAIClientStreamsAndAnswers()
    {
        using IChatClient client = OpenAIChat.AsIChatClient();
        List<ChatMessage> history = [new(ChatRole.User, "Tell me about a cat.")];
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 20 };

        var response = await client.GetResponseAsync(history, options);
        var streamed = new StringBuilder();
        await foreach (var update in client.GetStreamingResponseAsync(history, options))
            streamed.Append(update.Text);

        var expected = await LibraryReplyAsync(20, history[0]);
        Assert.Equal(expected.Text, response.Text);
        Assert.Equal(expected.Text, streamed.ToString());
        Assert.Equal(Microsoft.Extensions.AI.ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(20, response.Usage?.OutputTokenCount);
    }

    [Fact]
    public async Task StopSequencesEndTheReplyBeforeThem()
    {
        var full = await LibraryReplyAsync(40, new ChatMessage(ChatRole.User, "Tell me about a cat."));
        string stop = full.Text.Trim().Split(' ')[2];
        ChatCompletion cut = await OpenAIChat.CompleteChatAsync([new UserChatMessage("Tell me about a cat.")],
            new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 40, StopSequences = { stop } });

        Assert.Equal(full.Text[..full.Text.IndexOf(stop, StringComparison.Ordinal)], cut.Content[0].Text);
        Assert.Equal(OpenAI.Chat.ChatFinishReason.Stop, cut.FinishReason);
    }

    /// <summary>The same conversation through the library's own chat client, greedy.</summary>
    private async Task<ChatResponse> LibraryReplyAsync(int maxTokens, params ChatMessage[] messages)
    {
        using var client = new TernChatClient(served.Model.Model, served.Model.Tokenizer, new TernChatClientOptions { ContextLength = served.Server.Server.ContextLength });
        return await client.GetResponseAsync(messages, new ChatOptions { Temperature = 0, MaxOutputTokens = maxTokens });
    }
}
