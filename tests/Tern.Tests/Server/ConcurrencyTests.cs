using System.Net;
using Tern.Server;

namespace Tern.Tests.Server;

/// <summary>
/// The queue, cancellation and shutdown. Each test starts its own server on the shared model file and, where it
/// needs requests to wait, holds the model's gate: every generation then stops before its next step, so what waits
/// where is certain without timing.
/// </summary>
public sealed class ConcurrencyTests(ServedBit3M served) : IClassFixture<ServedBit3M>
{
    private const string LongStream = "{\"prompt\": \"Once upon a time\", \"max_tokens\": 400, \"temperature\": 0, \"stream\": true}";

    [Fact]
    public async Task PastTheQueueA503WithRetryAfterAndTheWaitingAreServedAfterwards()
    {
        await using var server = await RunningServer.StartAsync(served.ModelPath, o => o with { Parallel = 1, QueueLength = 1 });
        var gate = server.ModelGate;
        await gate.WaitAsync();
        Task<ApiAnswer> running, waiting;
        try
        {
            running = server.PostAsync("/v1/completions", "{\"prompt\": \"Once\", \"max_tokens\": 5, \"temperature\": 0}");
            await Until(() => server.Server.Load.Active == 1);
            waiting = server.PostAsync("/v1/completions", "{\"prompt\": \"The dog\", \"max_tokens\": 5, \"temperature\": 0}");
            await Until(() => server.Server.Load.Waiting == 1);

            var refused = await server.PostAsync("/v1/completions", "{\"prompt\": \"A bird\", \"max_tokens\": 5}");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.Status);
            Assert.Equal("1", refused.Headers.RetryAfter?.ToString());
            Assert.Equal(("server_error", "server_busy"), (refused.Error.Type, refused.Error.Code));
            Assert.Contains("1 requests are generating and 1 are waiting", refused.Error.Message, StringComparison.Ordinal);
        }
        finally
        {
            gate.Release();
        }

        Assert.Equal(HttpStatusCode.OK, (await running).Status);
        Assert.Equal(HttpStatusCode.OK, (await waiting).Status);
        var metrics = await server.GetAsync("/metrics");
        Assert.Contains("tern_requests_rejected_total 1\n", metrics.Body, StringComparison.Ordinal);
        Assert.Contains("tern_requests_total{endpoint=\"completions\",status=\"503\"} 1\n", metrics.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AClientThatDisconnectsMidStreamCancelsItsGenerationAtOnce()
    {
        await using var server = await RunningServer.StartAsync(served.ModelPath);
        var gate = server.ModelGate;
        // Some tokens first, then the model held: the generation is between two steps when the client leaves.
        using var leave = new CancellationTokenSource();
        int events = 0;
        var reading = Task.Run(async () =>
        {
            await foreach (string _ in server.EventsAsync("/v1/completions", LongStream, leave.Token))
            {
                if (++events == 3)
                {
                    await gate.WaitAsync();
                    await leave.CancelAsync();
                }
            }
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading);
        long generated = server.Server.Metrics.GeneratedTokens;
        try
        {
            await Until(() => server.Server.Load.Active == 0);
        }
        finally
        {
            gate.Release();
        }

        // Cancelled while waiting for its turn: not one more token after the client left.
        Assert.Equal(generated, server.Server.Metrics.GeneratedTokens);
        Assert.True(generated < 400, $"{generated} tokens");
        Assert.Contains("tern_generations_cancelled_total 1\n", (await server.GetAsync("/metrics")).Body, StringComparison.Ordinal);
        // The slot is free again, and its session serves the next request in full.
        var next = await server.StreamAsync("/v1/completions", LongStream);
        Assert.True(next.Done);
        Assert.Equal(served.Model.GreedyText("Once upon a time", 400), next.Text);
    }

    [Fact]
    public async Task AClientThatLeavesWhileQueuedIsForgotten()
    {
        await using var server = await RunningServer.StartAsync(served.ModelPath, o => o with { Parallel = 1 });
        var gate = server.ModelGate;
        await gate.WaitAsync();
        try
        {
            var running = server.PostAsync("/v1/completions", "{\"prompt\": \"Once\", \"max_tokens\": 5}");
            await Until(() => server.Server.Load.Active == 1);
            using var leave = new CancellationTokenSource();
            var queued = server.PostAsync("/v1/completions", "{\"prompt\": \"Once\", \"max_tokens\": 5}", cancellation: leave.Token);
            await Until(() => server.Server.Load.Waiting == 1);
            await leave.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
            await Until(() => server.Server.Load.Waiting == 0);
            gate.Release();
            Assert.Equal(HttpStatusCode.OK, (await running).Status);
        }
        finally
        {
            if (gate.CurrentCount == 0)
                gate.Release();
        }
    }

    [Fact]
    public async Task ASlowClientHoldsOnlyItsOwnSessionAndGetsItsWholeAnswer()
    {
        await using var server = await RunningServer.StartAsync(served.ModelPath, o => o with { Parallel = 2 });
        string request = "{\"prompt\": \"Once upon a time\", \"max_tokens\": 300, \"temperature\": 0.8, \"seed\": 5, \"stream\": true}";
        var expected = await server.StreamAsync("/v1/completions", request);

        var slow = new List<string>();
        bool done = false;
        await using (var events = server.EventsAsync("/v1/completions", request).GetAsyncEnumerator())
        {
            Assert.True(await events.MoveNextAsync());
            slow.Add(events.Current);
            // While the slow client reads nothing, others are served in full.
            for (int i = 0; i < 3; i++)
            {
                var other = await server.PostAsync("/v1/completions", "{\"prompt\": \"The dog\", \"max_tokens\": 50, \"temperature\": 0}");
                Assert.Equal(HttpStatusCode.OK, other.Status);
            }

            while (await events.MoveNextAsync())
            {
                if (events.Current == "[DONE]")
                    done = true;
                else
                    slow.Add(events.Current);
                await Task.Delay(1);
            }
        }

        Assert.True(done);
        Assert.Equal(expected.Text, new StreamedAnswer(slow, done).Text);
    }

    [Fact]
    public async Task StoppingRefusesTheQueuedAndEndsTheRunningCleanlyAfterTheGracePeriod()
    {
        var server = await RunningServer.StartAsync(served.ModelPath, o => o with { Parallel = 1, ShutdownGrace = TimeSpan.FromSeconds(1) });
        var gate = server.ModelGate;
        await gate.WaitAsync();
        Task stopping;
        Task<StreamedAnswer> running;
        Task<ApiAnswer> queued;
        try
        {
            running = server.StreamAsync("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], \"stream\": true}");
            await Until(() => server.Server.Load.Active == 1);
            queued = server.PostAsync("/v1/completions", "{\"prompt\": \"Once\", \"max_tokens\": 5}");
            await Until(() => server.Server.Load.Waiting == 1);

            stopping = server.Server.StopAsync();
            var refused = await queued;
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.Status);
            Assert.Equal("shutting_down", refused.Error.Code);

            // The grace period passes with the model still held: the running stream is cancelled and says why.
            var cut = await running;
            Assert.False(cut.Done);
            Assert.Equal("shutting_down", cut.Error?.GetProperty("code").GetString());
        }
        finally
        {
            gate.Release();
        }

        await stopping.WaitAsync(RunningServer.Patience);
        await server.DisposeAsync();
    }

    [Fact]
    public async Task HealthIs503UntilTheModelIsLoadedAndRequestsAreTurnedAway()
    {
        await using var folder = new AsyncTempFolder();
        // A model file that is not yet complete: loading fails, and the server says so rather than serving.
        File.WriteAllBytes(folder.File("broken.gguf"), [.. "GGUF"u8, 3, 0, 0, 0]);
        var server = TernServer.Create(new TernServerOptions { ModelPath = folder.File("broken.gguf"), Port = 0 });
        await using (server)
        {
            await server.StartAsync();
            await Assert.ThrowsAnyAsync<Exception>(() => server.ModelLoaded);
            using var http = new HttpClient { BaseAddress = server.Address };
            using var health = await http.GetAsync("/health");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
            Assert.Contains("\"failed\"", await health.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            using var chat = await http.PostAsync("/v1/completions", new StringContent("{\"prompt\": \"x\"}"));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, chat.StatusCode);
            Assert.Contains("model_failed", await chat.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            await server.StopAsync();
        }
    }

    /// <summary>Waits for a state the server reaches on its own, without a deadline tighter than the tests' patience.</summary>
    private static async Task Until(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + RunningServer.Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the server never reached the state the test waits for");
            await Task.Delay(10);
        }
    }
}
