using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;

namespace Tern.Tests.Server;

/// <summary>
/// 100 concurrent streaming clients on the 3M model: every answer complete, and identical to the same seeded request
/// served alone; none lost; the server's memory flat from one round to the next. The throughput goes to the test's
/// output (docs/performance.md records it); nothing here asserts a time.
/// </summary>
public sealed class LoadTests(ServedBit3M served, ITestOutputHelper output) : IClassFixture<ServedBit3M>
{
    private const int Clients = 100;
    private const int DistinctRequests = 20;
    private const int MaxTokens = 24;

    private static readonly string[] Openings =
    [
        "Tell me about a cat.", "Once upon a time there was a dog.", "What did the little girl find?",
        "Tell me a story about the sea.", "Where did the bird fly?",
    ];

    [Fact]
    public async Task AHundredConcurrentStreamsEachMatchTheSameRequestServedAlone()
    {
        var requests = Enumerable.Range(0, DistinctRequests).Select(Request).ToArray();

        var alone = new StreamedAnswer[DistinctRequests];
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < DistinctRequests; i++)
            alone[i] = await served.Server.StreamAsync("/v1/chat/completions", requests[i]);
        double aloneSeconds = clock.Elapsed.TotalSeconds;
        int aloneTokens = alone.Sum(a => a.Usage!.Value.GetProperty("completion_tokens").GetInt32());
        foreach (var answer in alone)
        {
            Assert.True(answer.Done);
            Assert.NotEmpty(answer.Text);
        }

        var (firstSeconds, firstTokens) = await RoundAsync(requests, alone);
        long heapAfterFirst = SettledHeap();
        var (secondSeconds, secondTokens) = await RoundAsync(requests, alone);
        long heapAfterSecond = SettledHeap();

        Assert.Equal((0, 0), served.Server.Server.Load);
        // Flat: the second round, as large as the first, leaves the heap where the first left it (sessions are
        // created once per slot and kept; nothing per request outlives it). 16 MB covers the collector's slack.
        Assert.True(heapAfterSecond - heapAfterFirst < 16 << 20, $"the heap grew from {heapAfterFirst >> 20} MB to {heapAfterSecond >> 20} MB");

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"one client at a time: {DistinctRequests} requests, {aloneTokens} tokens in {aloneSeconds:F2} s = {aloneTokens / aloneSeconds:F0} tokens/s"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Clients} concurrent clients, round 1: {firstTokens} tokens in {firstSeconds:F2} s = {firstTokens / firstSeconds:F0} tokens/s"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Clients} concurrent clients, round 2: {secondTokens} tokens in {secondSeconds:F2} s = {secondTokens / secondSeconds:F0} tokens/s"));
        output.WriteLine($"managed heap after round 1: {heapAfterFirst / 1024} KiB, after round 2: {heapAfterSecond / 1024} KiB");
    }

    /// <summary>All clients at once, client c sending request c mod 20; each answer checked against the request alone.</summary>
    private async Task<(double Seconds, int Tokens)> RoundAsync(string[] requests, StreamedAnswer[] alone)
    {
        var clock = Stopwatch.StartNew();
        var answers = await Task.WhenAll(Enumerable.Range(0, Clients).Select(c =>
            Task.Run(() => served.Server.StreamAsync("/v1/chat/completions", requests[c % DistinctRequests]))));
        double seconds = clock.Elapsed.TotalSeconds;

        Assert.Equal(Clients, answers.Length);
        for (int c = 0; c < Clients; c++)
        {
            var expected = alone[c % DistinctRequests];
            var answer = answers[c];
            Assert.True(answer.Done, $"client {c} got no [DONE]");
            Assert.Null(answer.Error);
            Assert.Equal(expected.Text, answer.Text);
            Assert.Equal(expected.FinishReason, answer.FinishReason);
            Assert.Equal(Tokens(expected), Tokens(answer));
        }

        return (seconds, answers.Sum(Tokens));
    }

    private static int Tokens(StreamedAnswer answer) => answer.Usage!.Value.GetProperty("completion_tokens").GetInt32();

    /// <summary>Request i: one of five openings, sampled (temperature 0.9) with one of four seeds.</summary>
    private static string Request(int i) =>
        $$"""{"model":"bit3m","messages":[{"role":"user","content":"{{Openings[i % Openings.Length]}}"}],"stream":true,"stream_options":{"include_usage":true},"max_tokens":{{MaxTokens}},"temperature":0.9,"seed":{{1000 + (i / Openings.Length)}}}""";

    private static long SettledHeap()
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }

        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
