using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Tern.Server.Endpoints;
using Tern.Server.Protocol;

namespace Tern.Server.Middleware;

/// <summary>
/// With --api-key, the API and the metrics need "Authorization: Bearer KEY" (401 otherwise); /health and the chat
/// page stay open, so that probes work and the page can ask for the key. The comparison takes the same time
/// wherever the keys differ.
/// </summary>
internal sealed class ApiKeyMiddleware(RequestDelegate next, TernServerOptions options)
{
    private readonly byte[] _key = Encoding.UTF8.GetBytes(options.ApiKey ?? "");

    public Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        bool guarded = path.StartsWithSegments("/v1", StringComparison.Ordinal) || path.StartsWithSegments("/metrics", StringComparison.Ordinal);
        // Browsers send CORS preflights without credentials; the CORS middleware answers them.
        if (!guarded || HttpMethods.IsOptions(context.Request.Method) || Matches(context.Request.Headers.Authorization.ToString()))
            return next(context);

        bool missing = context.Request.Headers.Authorization.Count == 0;
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return JsonResponses.WriteErrorAsync(context.Response, StatusCodes.Status401Unauthorized, new ApiErrorDetail(
            missing ? "no API key given: send the header \"Authorization: Bearer KEY\"" : "the API key is not this server's",
            ErrorTypes.InvalidRequest, null, "invalid_api_key"));
    }

    private bool Matches(string authorization)
    {
        const string scheme = "Bearer ";
        if (!authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            return false;
        var given = Encoding.UTF8.GetBytes(authorization[scheme.Length..].Trim());
        return CryptographicOperations.FixedTimeEquals(given, _key);
    }
}
