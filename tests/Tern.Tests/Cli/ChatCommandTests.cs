using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
using Tern.Chat;
using Tern.Tests.Inference;

namespace Tern.Tests.Cli;

/// <summary>`tern chat` driven through standard input, one user turn per line, on the real 3M model.</summary>
public partial class ChatCommandTests(Bit3MModel bit3m) : IClassFixture<Bit3MModel>
{
    [Fact]
    public async Task EachLineIsATurnAndTheRepliesAreTheChatClientsStreamedWithTheCacheKept()
    {
        var r = TernProcess.RunWithInput("Tell me about a cat.\n\nWhat happened next?\n",
            "chat", "-m", bit3m.Path, "-sys", "You tell stories.", "-n", "16", "--temp", "0", "-t", "1");
        CliAssert.Succeeded(r);

        // The same conversation through the library, greedy, 16 tokens a turn.
        using var client = new TernChatClient(bit3m.Model, bit3m.Tokenizer);
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 16 };
        var history = new List<ChatMessage> { new(ChatRole.System, "You tell stories."), new(ChatRole.User, "Tell me about a cat.") };
        var first = await client.GetResponseAsync(history, options);
        history.AddRange(first.Messages);
        history.Add(new ChatMessage(ChatRole.User, "What happened next?"));
        var second = await client.GetResponseAsync(history, options);

        Assert.Equal(first.Text + "\n" + second.Text + "\n", r.Stdout.Replace("\r\n", "\n", StringComparison.Ordinal));
        var summary = Summary().Match(r.Stderr);
        Assert.True(summary.Success, r.ToString());
        Assert.Equal("2", summary.Groups["turns"].Value);
        // The second turn evaluated only its own tokens: the first prompt and reply came from the cache.
        long prompts = first.Usage!.InputTokenCount!.Value + second.Usage!.InputTokenCount!.Value;
        Assert.Equal(prompts, long.Parse(summary.Groups["prompts"].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(second.Usage.CachedInputTokenCount, long.Parse(summary.Groups["cached"].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(second.Usage.CachedInputTokenCount >= first.Usage.InputTokenCount + 15, r.Stderr);
    }

    [Fact]
    public void NoInputIsNoTurn()
    {
        var r = TernProcess.RunWithInput("", "chat", "-m", bit3m.Path, "--temp", "0");
        CliAssert.Succeeded(r);
        Assert.Equal("", r.Stdout);
        Assert.StartsWith("0 turns", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void AFullContextEndsTheChatWithOneClearLine()
    {
        var cut = TernProcess.RunWithInput("Tell me about a cat.\nAnd then?\n", "chat", "-m", bit3m.Path, "-c", "48", "-n", "100", "--temp", "0");
        CliAssert.UserError(cut, "the context of 48 tokens is full", "-c");
        Assert.NotEmpty(cut.Stdout.Trim());

        var noRoom = TernProcess.RunWithInput("Tell me about a cat.\n", "chat", "-m", bit3m.Path, "-c", "8", "--temp", "0");
        CliAssert.UserError(noRoom, "the context of 8 tokens is full");
        Assert.Equal("", noRoom.Stdout);
    }

    [Fact]
    public void BadArgumentsGetOneClearLine()
    {
        CliAssert.UserError(TernProcess.RunWithInput("hi\n", "chat", "-m", bit3m.Path, "--template", "vicuna"), "vicuna", "llama3");
        CliAssert.UserError(TernProcess.RunWithInput("hi\n", "chat", "-m", bit3m.Path, "-n", "0"), "-n 0");
        CliAssert.UserError(TernProcess.RunWithInput("hi\n", "chat", "-m", bit3m.Path, "-c", "100000"), "-c 100000");
    }

    [GeneratedRegex(@"^(?<turns>\d+) turns; prompts: (?<prompts>\d+) tokens, (?<cached>\d+) from the cache", RegexOptions.Multiline)]
    private static partial Regex Summary();
}
