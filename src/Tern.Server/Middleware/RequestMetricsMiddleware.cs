using Microsoft.AspNetCore.Http;
using Tern.Server.Metrics;

namespace Tern.Server.Middleware;

/// <summary>Counts every answered request by endpoint and status code, for /metrics.</summary>
internal sealed class RequestMetricsMiddleware(RequestDelegate next, ServerMetrics metrics)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            // A client that left mid-answer keeps the status that was sent (200); 499 says it left first, as nginx does.
            int status = context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted ? 499 : context.Response.StatusCode;
            metrics.RequestFinished(EndpointName(context.Request.Path), status);
        }
    }

    private static string EndpointName(PathString path) => path.Value switch
    {
        "/v1/chat/completions" => "chat_completions",
        "/v1/completions" => "completions",
        "/v1/models" => "models",
        "/health" => "health",
        "/metrics" => "metrics",
        "/" => "chat_page",
        _ => "other",
    };
}
