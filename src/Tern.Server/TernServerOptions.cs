using Tern.Inference;

namespace Tern.Server;

/// <summary>What `tern serve` serves and how: its flags, one property each.</summary>
public sealed record TernServerOptions
{
    /// <summary>The GGUF file to serve.</summary>
    public required string ModelPath { get; init; }

    /// <summary>The address to listen on: an IP address, or localhost (the loopback address).</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>The TCP port; 0 takes any free one (<see cref="TernServer.Address"/> says which).</summary>
    public int Port { get; init; } = 8080;

    /// <summary>Each session's context in tokens (a prompt and its reply); default: the model's, at most 4096.</summary>
    public int? ContextLength { get; init; }

    /// <summary>Sessions that generate at once; they take turns on the model token by token.</summary>
    public int Parallel { get; init; } = 4;

    /// <summary>Requests that may wait for a session; past that, 503 with Retry-After.</summary>
    public int QueueLength { get; init; } = 128;

    /// <summary>When set, every /v1 and /metrics request must carry "Authorization: Bearer KEY" (401 otherwise).</summary>
    public string? ApiKey { get; init; }

    /// <summary>The one origin whose pages may call the API from a browser (CORS); null allows none.</summary>
    public string? CorsOrigin { get; init; }

    /// <summary>How the model is loaded (threads, the head's type).</summary>
    public TernModelOptions Model { get; init; } = new();

    /// <summary>The chat template's name (bitnet, llama3, chatml, plain); default: the one the model file asks for.</summary>
    public string? Template { get; init; }

    /// <summary>The name clients see; default: the model file's name without .gguf.</summary>
    public string? ModelId { get; init; }

    /// <summary>The largest request body accepted (413 past it).</summary>
    public long MaxRequestBodyBytes { get; init; } = 4 << 20;

    /// <summary>On SIGINT/SIGTERM, how long generations in progress may go on before they are cancelled.</summary>
    public TimeSpan ShutdownGrace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Throws ArgumentException, naming the flag, for a value the server cannot use.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ModelPath))
            throw new ArgumentException("no model given: -m MODEL.gguf");
        if (Port is < 0 or > 65535)
            throw new ArgumentException($"--port {Port}: a port is between 0 and 65535");
        if (Parallel < 1)
            throw new ArgumentException($"--parallel {Parallel}: at least one session is needed");
        if (QueueLength < 0)
            throw new ArgumentException($"--queue {QueueLength}: the queue's length is 0 or more");
        if (ContextLength is < 1)
            throw new ArgumentException($"-c {ContextLength}: the context needs at least one token");
        if (ApiKey is { } key && (key.Length == 0 || key.Any(char.IsWhiteSpace)))
            throw new ArgumentException("--api-key: the key must be non-empty and without spaces");
        if (CorsOrigin is { } origin && !(Uri.TryCreate(origin, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.AbsolutePath == "/"))
            throw new ArgumentException($"--cors {origin}: an origin is a scheme, a host and maybe a port, such as https://example.com");
        if (Model.Threads < 1)
            throw new ArgumentException($"-t {Model.Threads}: at least one thread is needed");
        if (ShutdownGrace < TimeSpan.Zero)
            throw new ArgumentException("the shutdown grace period cannot be negative");
    }
}
