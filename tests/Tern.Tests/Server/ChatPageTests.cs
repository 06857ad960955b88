using Xunit.Abstractions;

namespace Tern.Tests.Server;

/// <summary>
/// The chat page at / in headless Chromium: a message typed and sent with Enter, the reply arriving piece by piece
/// from the streaming API, screenshots in the test's output folder (server-screenshots/).
/// </summary>
public sealed class ChatPageTests(ServedBit3M served, ITestOutputHelper output) : IClassFixture<ServedBit3M>
{
    [ChromiumFact]
    public async Task ATypedMessageGetsAReplyThatStreamsIntoThePage()
    {
        await using var server = await RunningServer.StartAsync(served.ModelPath);
        const string message = "Tell me about a cat.";
        var expected = await server.StreamAsync("/v1/chat/completions",
            $$"""{"messages":[{"role":"user","content":"{{message}}"}],"stream":true,"temperature":0.8,"max_tokens":300,"seed":11}""");

        await using var browser = await DevToolsBrowser.LaunchAsync();
        await browser.NavigateAsync(server.Address);
        await browser.WaitForAsync("document.getElementById('model').textContent === 'bit3m'");
        await browser.EvaluateAsync("document.getElementById('seed').value = '11'; document.getElementById('maxTokens').value = '300'; document.getElementById('input').focus()");
        await browser.TypeAsync(message);

        // The model held from the start and let through one step at a time (the gate serves waiters in order, so a
        // release followed by a wait lets exactly the waiting generation step pass), until the page shows a few
        // pieces: the reply is then visibly part way, and nothing more can arrive until the gate is released.
        var gate = server.ModelGate;
        await gate.WaitAsync();
        string partial;
        string folder = Path.Combine(AppContext.BaseDirectory, "server-screenshots");
        try
        {
            await browser.PressEnterAsync();
            for (int steps = 0; (await browser.EvaluateAsync("window.ternChat.pieces")).GetInt32() < 3; steps++)
            {
                Assert.True(steps < 250, "the page showed no pieces");
                gate.Release();
                await gate.WaitAsync();
                await Task.Delay(10);
            }

            partial = (await browser.EvaluateAsync("document.querySelector('.message.assistant span').textContent")).GetString()!;
            Assert.False((await browser.EvaluateAsync("window.ternChat.done")).GetBoolean());
            await browser.ScreenshotAsync(Path.Combine(folder, "chat-page-streaming.png"));
        }
        finally
        {
            gate.Release();
        }

        await browser.WaitForAsync("window.ternChat.done || window.ternChat.error");
        Assert.Equal("null", (await browser.EvaluateAsync("JSON.stringify(window.ternChat.error)")).GetString());
        string shown = (await browser.EvaluateAsync("document.querySelector('.message.assistant span').textContent")).GetString()!;
        int pieces = (await browser.EvaluateAsync("window.ternChat.pieces")).GetInt32();
        await browser.ScreenshotAsync(Path.Combine(folder, "chat-page.png"));
        output.WriteLine($"screenshots: {folder}");

        Assert.Equal(expected.Text, shown);
        Assert.Equal(expected.Pieces.Count, pieces);
        Assert.True(pieces > 3, $"{pieces} pieces");
        Assert.StartsWith(partial, shown, StringComparison.Ordinal);
        Assert.True(partial.Length > 0 && partial.Length < shown.Length, $"part way: \"{partial}\" of \"{shown}\"");
        Assert.Equal(message, (await browser.EvaluateAsync("document.querySelector('.message.user span').textContent")).GetString());
    }
}
