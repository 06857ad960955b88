using System.Net;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Tern.Chat;

namespace Tern.Tests.Server;

/// <summary>The API key, CORS, the metrics' text, and AddTernChatClient's registration.</summary>
public sealed class AccessTests(ServedBit3M served) : IClassFixture<ServedBit3M>
{
    private const string Completion = "{\"prompt\": \"Once\", \"max_tokens\": 2}";

    [Fact]
    public async Task WithAnApiKeyTheApiNeedsItAndHealthAndThePageDoNot()
    {
        await using var server = await RunningServer.StartAsync(served.ModelPath, o => o with { ApiKey = "s3cret" });

        var missing = await server.PostAsync("/v1/completions", Completion);
        Assert.Equal(HttpStatusCode.Unauthorized, missing.Status);
        Assert.Equal(("invalid_request_error", "invalid_api_key"), (missing.Error.Type, missing.Error.Code));
        Assert.Contains("Authorization: Bearer", missing.Error.Message, StringComparison.Ordinal);
        var wrong = await server.PostAsync("/v1/completions", Completion, apiKey: "guess");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.GetAsync("/v1/models", apiKey: "s3cre")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.GetAsync("/metrics")).Status);

        Assert.Equal(HttpStatusCode.OK, (await server.PostAsync("/v1/completions", Completion, apiKey: "s3cret")).Status);
        Assert.Equal(HttpStatusCode.OK, (await server.GetAsync("/v1/models", apiKey: "s3cret")).Status);
        Assert.Equal(HttpStatusCode.OK, (await server.GetAsync("/health")).Status);
        Assert.Equal(HttpStatusCode.OK, (await server.GetAsync("/")).Status);
    }

    [Fact]
    public async Task CorsIsOffUnlessOneOriginIsAllowed()
    {
        static HttpRequestMessage Preflight(string origin)
        {
            var request = new HttpRequestMessage(HttpMethod.Options, "/v1/chat/completions");
            request.Headers.Add("Origin", origin);
            request.Headers.Add("Access-Control-Request-Method", "POST");
            request.Headers.Add("Access-Control-Request-Headers", "authorization,content-type");
            return request;
        }

        var closed = await served.Server.SendAsync(Preflight("https://example.com"), default);
        Assert.False(closed.Headers.Contains("Access-Control-Allow-Origin"));

        await using var open = await RunningServer.StartAsync(served.ModelPath, o => o with { CorsOrigin = "https://example.com", ApiKey = "k" });
        var allowed = await open.SendAsync(Preflight("https://example.com"), default);
        Assert.Equal(["https://example.com"], allowed.Headers.GetValues("Access-Control-Allow-Origin"));
        var other = await open.SendAsync(Preflight("https://elsewhere.org"), default);
        Assert.False(other.Headers.Contains("Access-Control-Allow-Origin"));

        var request = RunningServer.Request(HttpMethod.Post, "/v1/completions", Completion, "k");
        request.Headers.Add("Origin", "https://example.com");
        var answer = await open.SendAsync(request, default);
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal(["https://example.com"], answer.Headers.GetValues("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task MetricsAreCountedInPrometheusText()
    {
        await using var server = await RunningServer.StartAsync(served.ModelPath, o => o with { Parallel = 3 });
        await server.PostAsync("/v1/completions", "{\"prompt\": \"Once upon a time\", \"max_tokens\": 7}");
        await server.PostAsync("/v1/completions", "{\"prompt\": 1}");

        var metrics = await server.GetAsync("/metrics");
        Assert.Equal("text/plain", metrics.ContentType);
        foreach (string line in (string[])[
            "tern_requests_total{endpoint=\"completions\",status=\"200\"} 1",
            "tern_requests_total{endpoint=\"completions\",status=\"400\"} 1",
            "tern_generated_tokens_total 7",
            "tern_prompt_tokens_total 5",
            "tern_queue_length 0",
            "tern_active_sessions 0",
            "tern_sessions 3",
            "tern_model_loaded 1",
            "# TYPE tern_tokens_per_second gauge"])
        {
            Assert.Contains(line + "\n", metrics.Body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AddTernChatClientRegistersTheEnginesChatClientInAPipeline()
    {
        var services = new ServiceCollection();
        bool pipelineRan = false;
        services.AddTernChatClient(served.ModelPath, new TernChatClientOptions { ContextLength = 256 })
            .Use((messages, options, next, cancellation) =>
            {
                pipelineRan = true;
                return next(messages, options, cancellation);
            });
        await using (var provider = services.BuildServiceProvider())
        {
            var client = provider.GetRequiredService<IChatClient>();
            var response = await client.GetResponseAsync("Tell me about a cat.", new ChatOptions { Temperature = 0, MaxOutputTokens = 12 });

            using var direct = new TernChatClient(served.Model.Model, served.Model.Tokenizer, new TernChatClientOptions { ContextLength = 256 });
            var expected = await direct.GetResponseAsync("Tell me about a cat.", new ChatOptions { Temperature = 0, MaxOutputTokens = 12 });
            Assert.True(pipelineRan);
            Assert.Equal(expected.Text, response.Text);
            Assert.IsType<TernChatClient>(client.GetService<TernChatClient>());
            Assert.Same(provider.GetRequiredService<Tern.Inference.TernModel>(), client.GetService<Tern.Inference.TernModel>());
        }
    }
}
