using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Tern.Server.Hosting;
using Tern.Server.Protocol;

namespace Tern.Server.Endpoints;

/// <summary>GET /v1/models: the one model served, under the name requests may give as "model".</summary>
internal static class ModelsEndpoint
{
    public static Task HandleAsync(HttpContext context)
    {
        var host = context.RequestServices.GetRequiredService<ModelHost>();
        var served = host.Require();
        var options = context.RequestServices.GetRequiredService<TernServerOptions>();
        long created = new DateTimeOffset(File.GetLastWriteTimeUtc(options.ModelPath)).ToUnixTimeSeconds();
        return JsonResponses.WriteAsync(context.Response, StatusCodes.Status200OK, new ModelList([new ModelCard(served.Id, created)]), ServerJson.Context.ModelList);
    }
}
