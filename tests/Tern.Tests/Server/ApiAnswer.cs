using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Tern.Tests.Server;

/// <summary>One HTTP answer of the server: status, headers and body.</summary>
public sealed record ApiAnswer(HttpStatusCode Status, HttpResponseHeaders Headers, string ContentType, string Body)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;

    /// <summary>The OpenAI error body's fields; fails the test when the body is not one.</summary>
    public (string Message, string Type, string? Param, string? Code) Error
    {
        get
        {
            var error = Json.GetProperty("error");
            Assert.Equal(["message", "type", "param", "code"], error.EnumerateObject().Select(p => p.Name));
            return (error.GetProperty("message").GetString()!, error.GetProperty("type").GetString()!,
                error.GetProperty("param").GetString(), error.GetProperty("code").GetString());
        }
    }

    public override string ToString() => $"{(int)Status} {Status}: {Body}";
}
