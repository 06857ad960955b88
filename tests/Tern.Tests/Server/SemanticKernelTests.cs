using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Tern.Chat;

namespace Tern.Tests.Server;

/// <summary>Semantic Kernel runs a prompt on the engine through the IChatClient that AddTernChatClient registers.</summary>
public sealed class SemanticKernelTests(ServedBit3M served) : IClassFixture<ServedBit3M>
{
    [Fact]
    public async Task A_kernel_answers_with_the_engines_chat_client()
    {
        var builder = Kernel.CreateBuilder();
        builder.Services.AddTernChatClient(served.ModelPath, new TernChatClientOptions { ContextLength = 256 });
        var kernel = builder.Build();

        var chat = kernel.GetRequiredService<IChatClient>().AsChatCompletionService();
        var history = new ChatHistory();
        history.AddUserMessage("Tell me about a cat.");
        var reply = await chat.GetChatMessageContentAsync(history, new PromptExecutionSettings { ExtensionData = new Dictionary<string, object> { ["temperature"] = 0.0, ["max_tokens"] = 12 } }, kernel);

        using var direct = new TernChatClient(served.Model.Model, served.Model.Tokenizer, new TernChatClientOptions { ContextLength = 256 });
        var expected = await direct.GetResponseAsync("Tell me about a cat.", new ChatOptions { Temperature = 0, MaxOutputTokens = 12 });
        Assert.False(string.IsNullOrWhiteSpace(reply.Content));
        Assert.Equal(expected.Text, reply.Content);
    }
}
