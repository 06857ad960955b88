using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Tern.Server.Metrics;

namespace Tern.Server.Endpoints;

/// <summary>GET /metrics: the counters in Prometheus's text format.</summary>
internal static class MetricsEndpoint
{
    public static Task HandleAsync(HttpContext context)
    {
        context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        return context.Response.WriteAsync(context.RequestServices.GetRequiredService<ServerMetrics>().ToPrometheusText(), context.RequestAborted);
    }
}
