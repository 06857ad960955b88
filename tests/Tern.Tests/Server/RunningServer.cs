using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using Tern.Chat;
using Tern.Inference;
using Tern.Server;

namespace Tern.Tests.Server;

/// <summary>
/// A <see cref="TernServer"/> started in the test process on a free loopback port with its model loaded, and an
/// HttpClient for it. One compute thread: the tests run beside others on a 2-core machine.
/// </summary>
public sealed class RunningServer : IAsyncDisposable
{
    /// <summary>Generous: CI machines are small and busy; nothing here measures time.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    private RunningServer(TernServer server)
    {
        Server = server;
        Http = new HttpClient { BaseAddress = server.Address, Timeout = Patience };
    }

    public TernServer Server { get; }

    public HttpClient Http { get; }

    public Uri Address => Server.Address;

    public static async Task<RunningServer> StartAsync(string modelPath, Func<TernServerOptions, TernServerOptions>? configure = null)
    {
        var options = new TernServerOptions
        {
            ModelPath = modelPath,
            Port = 0,
            QueueLength = 256,
            Model = new TernModelOptions { Threads = 1 },
        };
        var server = TernServer.Create(configure?.Invoke(options) ?? options);
        await server.StartAsync();
        await server.ModelLoaded.WaitAsync(Patience);
        return new RunningServer(server);
    }

    /// <summary>The model's gate: while a test holds it, every generation waits before its next step.</summary>
    internal SemaphoreSlim ModelGate => Tern.Chat.ModelGate.For(Server.Host.Require().Model);

    public Task<ApiAnswer> PostAsync(string path, string json, string? apiKey = null, CancellationToken cancellation = default) =>
        SendAsync(Request(HttpMethod.Post, path, json, apiKey), cancellation);

    public Task<ApiAnswer> GetAsync(string path, string? apiKey = null) => SendAsync(Request(HttpMethod.Get, path, null, apiKey), default);

    public async Task<ApiAnswer> SendAsync(HttpRequestMessage request, CancellationToken cancellation)
    {
        using (request)
        {
            using var response = await Http.SendAsync(request, cancellation);
            string body = await response.Content.ReadAsStringAsync(cancellation);
            return new ApiAnswer(response.StatusCode, response.Headers, response.Content.Headers.ContentType?.MediaType ?? "", body);
        }
    }

    /// <summary>POSTs a streaming request and reads its events to the end; fails the test if the answer is not a 200 event stream.</summary>
    public async Task<StreamedAnswer> StreamAsync(string path, string json, CancellationToken cancellation = default)
    {
        var events = new List<string>();
        bool done = false;
        await foreach (string data in EventsAsync(path, json, cancellation))
        {
            if (data == "[DONE]")
                done = true;
            else
                events.Add(data);
        }

        return new StreamedAnswer(events, done);
    }

    /// <summary>The data of each event as it arrives, [DONE] included.</summary>
    public async IAsyncEnumerable<string> EventsAsync(string path, string json, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        using var request = Request(HttpMethod.Post, path, json, null);
        using var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation);
        if (!response.IsSuccessStatusCode)
            Assert.Fail($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellation)}");
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellation), Encoding.UTF8);
        while (await reader.ReadLineAsync(cancellation) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
                yield return line["data: ".Length..];
        }
    }

    public static HttpRequestMessage Request(HttpMethod method, string path, string? json, string? apiKey)
    {
        var request = new HttpRequestMessage(method, path);
        if (json is not null)
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        if (apiKey is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return request;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.StopAsync();
        await Server.DisposeAsync();
    }
}
