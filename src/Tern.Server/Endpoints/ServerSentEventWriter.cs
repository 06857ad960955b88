using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Tern.Server.Protocol;

namespace Tern.Server.Endpoints;

/// <summary>
/// A text/event-stream answer: one <c>data: {json}</c> event per call, flushed at once so each token reaches the
/// client as it is generated, and <c>data: [DONE]</c> at the end, as OpenAI streams. A client that stops reading
/// makes the flush wait (the generation then waits too, without holding up other sessions) until Kestrel's minimum
/// data rate gives up on the connection and aborts the request.
/// </summary>
internal sealed class ServerSentEventWriter
{
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    private readonly HttpResponse _response;

    private ServerSentEventWriter(HttpResponse response) => _response = response;

    public static ServerSentEventWriter Start(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        // Proxies such as nginx would otherwise gather the events into larger writes.
        response.Headers["X-Accel-Buffering"] = "no";
        return new ServerSentEventWriter(response);
    }

    public async Task WriteAsync<T>(T value, JsonTypeInfo<T> typeInfo, CancellationToken cancellation)
    {
        var body = _response.BodyWriter;
        body.Write(DataPrefix);
        body.Write(JsonSerializer.SerializeToUtf8Bytes(value, typeInfo));
        body.Write(EventEnd);
        await body.FlushAsync(cancellation).ConfigureAwait(false);
    }

    /// <summary>An error after the answer has begun (its status is already sent): an event with OpenAI's error body.</summary>
    public Task WriteErrorAsync(ApiErrorDetail detail, CancellationToken cancellation) =>
        WriteAsync(new ApiError(detail), ServerJson.Context.ApiError, cancellation);

    public async Task WriteDoneAsync(CancellationToken cancellation)
    {
        _response.BodyWriter.Write(Done);
        await _response.BodyWriter.FlushAsync(cancellation).ConfigureAwait(false);
    }
}
