using System.Net;
using System.Text;
using Tern.Tests.Cli;

namespace Tern.Tests.Server;

/// <summary>`tern serve` as a process: it listens, answers, and stops cleanly on SIGINT and SIGTERM.</summary>
public sealed class ServeCommandTests(ServedBit3M served) : IClassFixture<ServedBit3M>
{
    private const int Sigint = 2, Sigterm = 15;

    [Theory]
    [InlineData(Sigterm)]
    [InlineData(Sigint)]
    public async Task ServesThenStopsCleanlyOnASignalWithAStreamInFlight(int signal)
    {
        using var serve = ServeProcess.Start("-m", served.ModelPath, "--port", "0", "-t", "1", "--parallel", "2");
        var address = await serve.Listening;
        Assert.Equal(IPAddress.Loopback.ToString(), address.Host);
        await serve.Ready;
        Assert.Contains(serve.Stdout, line => line.StartsWith("ready: bit3m, 2 sessions of 512 tokens", StringComparison.Ordinal));

        using var http = new HttpClient { BaseAddress = address, Timeout = RunningServer.Patience };
        using var answer = await http.PostAsync("/v1/completions", new StringContent("{\"prompt\": \"Once upon a time\", \"max_tokens\": 8, \"temperature\": 0}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Contains(served.Model.GreedyText("Once upon a time", 8).Replace("\n", "\\n", StringComparison.Ordinal), await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // A stream in progress when the signal comes: it finishes within the grace period or ends with an error
        // event; either way the reader sees a clean end, and the process exits 0.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = new StringContent("{\"prompt\": \"Once upon a time\", \"max_tokens\": 500, \"stream\": true}", Encoding.UTF8, "application/json"),
        };
        using var stream = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var body = stream.Content.ReadAsStringAsync();
        var (exitCode, stderr) = await serve.StopAsync(signal);
        string events = await body;

        Assert.Equal(0, exitCode);
        Assert.Contains("stopped", stderr, StringComparison.Ordinal);
        Assert.True(events.EndsWith("data: [DONE]\n\n", StringComparison.Ordinal) || events.Contains("shutting_down", StringComparison.Ordinal), events[^Math.Min(events.Length, 300)..]);
    }

    [Fact]
    public void BadArgumentsGetOneClearLine()
    {
        foreach (var (args, fragment) in new (string[], string)[]
        {
            (["-m", "/nonexistent/model.gguf"], "no such file"),
            (["-m", served.ModelPath, "--parallel", "0"], "--parallel 0"),
            (["-m", served.ModelPath, "--host", "example.com"], "--host example.com"),
            (["-m", served.ModelPath, "--port", "70000"], "--port 70000"),
            (["-m", served.ModelPath, "--cors", "not a url"], "--cors not a url"),
            (["-m", served.ModelPath, "--template", "vicuna"], "vicuna"),
        })
        {
            CliAssert.UserError(TernProcess.Run(["serve", .. args]), fragment);
        }
    }

    [Fact]
    public void TheHelpShowsTheFlags()
    {
        var help = TernProcess.Run("serve", "--help");
        CliAssert.Succeeded(help);
        foreach (string flag in (string[])["--host", "--port", "--ctx-size", "--parallel", "--queue", "--api-key", "--cors", "--threads"])
            Assert.Contains(flag, help.Stdout, StringComparison.Ordinal);
    }
}
