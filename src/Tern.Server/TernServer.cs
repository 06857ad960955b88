using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tern.Server.Endpoints;
using Tern.Server.Hosting;
using Tern.Server.Metrics;
using Tern.Server.Middleware;
using Tern.Server.Protocol;

namespace Tern.Server;

/// <summary>
/// The OpenAI-compatible server: Kestrel and minimal APIs around one model, loaded in the background once the
/// server listens. Built on ASP.NET Core's empty builder (no configuration files, no reflection), so the same code
/// runs in the NativeAOT binary. <c>tern serve</c> is <see cref="StartAsync"/>, then <see cref="WaitForShutdownAsync"/>
/// until SIGINT or SIGTERM.
/// </summary>
public sealed class TernServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ModelHost _host;
    private Task _loading = Task.CompletedTask;

    private TernServer(WebApplication app, ModelHost host, TernServerOptions options)
    {
        _app = app;
        _host = host;
        Options = options;
    }

    public TernServerOptions Options { get; }

    /// <summary>The model's host, for tests that hold the model to make requests wait deterministically.</summary>
    internal ModelHost Host => _host;

    /// <summary>Where the server listens (with the port the system chose when <see cref="TernServerOptions.Port"/> is 0); set by <see cref="StartAsync"/>.</summary>
    public Uri Address { get; private set; } = new("http://127.0.0.1/");

    /// <summary>Completes when the model is loaded; faults, with the reason, when it cannot be.</summary>
    public Task ModelLoaded => _loading;

    public ServerMetrics Metrics => _app.Services.GetRequiredService<ServerMetrics>();

    /// <summary>Requests waiting for a session and sessions generating, now (0 and 0 before the model is loaded).</summary>
    public (int Waiting, int Active) Load => _host.State == ModelState.Ready ? (_host.Require().Slots.Waiting, _host.Require().Slots.Active) : (0, 0);

    /// <summary>The name clients see, once the model is loaded.</summary>
    public string? ModelId => _host.State == ModelState.Ready ? _host.Require().Id : null;

    /// <summary>Where the model computes (<see cref="Inference.TernModel.Backend"/>), once it is loaded.</summary>
    public string? Backend => _host.State == ModelState.Ready ? _host.Require().Model.Backend : null;

    /// <summary>Each session's context in tokens, once the model is loaded.</summary>
    public int? ContextLength => _host.State == ModelState.Ready ? _host.Require().ContextLength : null;

    /// <summary>Builds the server; nothing listens and nothing is loaded until <see cref="StartAsync"/>.</summary>
    /// <param name="logging">Where the server's warnings and errors go (default: nowhere).</param>
    public static TernServer Create(TernServerOptions options, Action<ILoggingBuilder>? logging = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var address = ListenAddress(options.Host);

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(address, options.Port);
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
        });
        builder.Services.AddRoutingCore();
        builder.Services.AddLogging(logging ?? (_ => { }));
        // Kestrel waits this long for requests in progress after SIGTERM: the grace period, then the cancelled
        // generations' last writes.
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownGrace + TimeSpan.FromSeconds(10));
        var metrics = new ServerMetrics();
        var modelHost = new ModelHost(options, metrics);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(metrics);
        builder.Services.AddSingleton(modelHost);
        if (options.CorsOrigin is { } origin)
            builder.Services.AddCors(cors => cors.AddDefaultPolicy(policy => policy.WithOrigins(origin).AllowAnyHeader().AllowAnyMethod()));

        var app = builder.Build();
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<ApiErrorMiddleware>();
        app.Use(next => new RequestMetricsMiddleware(next, metrics).InvokeAsync);
        app.Use(next => new ApiErrorMiddleware(next, metrics, log).InvokeAsync);
        app.UseStatusCodePages(AnswerEmptyStatusAsync);
        if (options.CorsOrigin is not null)
            app.UseCors();
        if (options.ApiKey is not null)
            app.Use(next => new ApiKeyMiddleware(next, options).InvokeAsync);

        app.MapGet("/", (RequestDelegate)ChatPageEndpoint.HandleAsync);
        app.MapGet("/health", (RequestDelegate)HealthEndpoint.HandleAsync);
        app.MapGet("/metrics", (RequestDelegate)MetricsEndpoint.HandleAsync);
        app.MapGet("/v1/models", (RequestDelegate)ModelsEndpoint.HandleAsync);
        app.MapPost("/v1/chat/completions", (RequestDelegate)ChatCompletionsEndpoint.HandleAsync);
        app.MapPost("/v1/completions", (RequestDelegate)CompletionsEndpoint.HandleAsync);
        return new TernServer(app, modelHost, options);
    }

    /// <summary>Listens, then loads the model in the background (<see cref="ModelLoaded"/>); /health answers 503 until it is ready.</summary>
    public async Task StartAsync(CancellationToken cancellation = default)
    {
        var lifetime = _app.Services.GetRequiredService<IHostApplicationLifetime>();
        _host.Stopping = lifetime.ApplicationStopping;
        // On SIGINT/SIGTERM: queued requests are turned away at once (503), generations in progress get the grace
        // period to finish, then stop; Kestrel waits for their answers to end before it closes.
        lifetime.ApplicationStopping.Register(() => _host.CancelGenerations(Options.ShutdownGrace));
        await _app.StartAsync(cancellation).ConfigureAwait(false);
        string bound = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        Address = new Uri(bound.EndsWith('/') ? bound : bound + "/");
        _loading = _host.LoadAsync();
    }

    /// <summary>Returns when the server has stopped: after SIGINT or SIGTERM, <see cref="StopAsync"/>, or <paramref name="cancellation"/>.</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellation = default) => _app.WaitForShutdownAsync(cancellation);

    /// <summary>Stops as SIGTERM does: no new requests, queued ones refused, running ones finished or cancelled after the grace period.</summary>
    public Task StopAsync(CancellationToken cancellation = default) => _app.StopAsync(cancellation);

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync().ConfigureAwait(false);
        try
        {
            await _loading.ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A model that failed to load has nothing to dispose; the failure was reported through ModelLoaded.
        }

        _host.Dispose();
    }

    private static IPAddress ListenAddress(string host)
    {
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
            return IPAddress.Loopback;
        return IPAddress.TryParse(host.Trim('[', ']'), out var address)
            ? address
            : throw new ArgumentException($"--host {host}: give an IP address (127.0.0.1, 0.0.0.0, ::1) or localhost");
    }

    /// <summary>Routing's bare 404 and 405 (and any other empty error) in OpenAI's shape.</summary>
    private static Task AnswerEmptyStatusAsync(StatusCodeContext statusContext)
    {
        var context = statusContext.HttpContext;
        int status = context.Response.StatusCode;
        string request = $"{context.Request.Method} {context.Request.Path}";
        string message = status switch
        {
            StatusCodes.Status404NotFound => $"no endpoint at {request}; this server has GET /v1/models, POST /v1/chat/completions, POST /v1/completions, GET /health, GET /metrics",
            StatusCodes.Status405MethodNotAllowed => $"{context.Request.Path} does not take {context.Request.Method}",
            _ => $"{request}: {ReasonPhrases.GetReasonPhrase(status)}",
        };
        return JsonResponses.WriteErrorAsync(context.Response, status, new ApiErrorDetail(message, status >= 500 ? ErrorTypes.Server : ErrorTypes.InvalidRequest, null, null));
    }
}
