using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Tern.Server.Hosting;
using Tern.Server.Protocol;

namespace Tern.Server.Endpoints;

/// <summary>GET /health: 200 {"status":"ok"} once the model is loaded; 503 while it loads or when it failed to.</summary>
internal static class HealthEndpoint
{
    public static Task HandleAsync(HttpContext context)
    {
        var state = context.RequestServices.GetRequiredService<ModelHost>().State;
        var (status, text) = state switch
        {
            ModelState.Ready => (StatusCodes.Status200OK, "ok"),
            ModelState.Loading => (StatusCodes.Status503ServiceUnavailable, "loading"),
            _ => (StatusCodes.Status503ServiceUnavailable, "failed"),
        };
        return JsonResponses.WriteAsync(context.Response, status, new HealthStatus(text), ServerJson.Context.HealthStatus);
    }
}
