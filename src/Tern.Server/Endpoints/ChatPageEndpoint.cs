using Microsoft.AspNetCore.Http;

namespace Tern.Server.Endpoints;

/// <summary>GET /: the chat page, one self-contained HTML file (Web/index.html) that streams replies from /v1/chat/completions.</summary>
internal static class ChatPageEndpoint
{
    private static readonly Lazy<byte[]> Page = new(() =>
    {
        using var resource = typeof(ChatPageEndpoint).Assembly.GetManifestResourceStream("Tern.Server.Web.index.html")
            ?? throw new InvalidOperationException("the chat page is missing from Tern.Server's resources");
        using var copy = new MemoryStream();
        resource.CopyTo(copy);
        return copy.ToArray();
    });

    public static Task HandleAsync(HttpContext context)
    {
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.CacheControl = "no-cache";
        return context.Response.Body.WriteAsync(Page.Value, context.RequestAborted).AsTask();
    }
}
