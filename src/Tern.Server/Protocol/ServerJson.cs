using System.Text.Encodings.Web;
using System.Text.Json;

namespace Tern.Server.Protocol;

/// <summary>
/// The serializers the server writes with: <see cref="ServerJsonContext"/>'s, with quotes, apostrophes and non-ASCII
/// text written as themselves rather than \u escapes (the answers are JSON bodies, never embedded in HTML).
/// </summary>
internal static class ServerJson
{
    public static ServerJsonContext Context { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
