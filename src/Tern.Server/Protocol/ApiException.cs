using Microsoft.AspNetCore.Http;

namespace Tern.Server.Protocol;

/// <summary>
/// A request the server refuses, with the status code and OpenAI error it answers with. Thrown while a request is
/// read and checked, before any of the answer is written; the endpoint turns it into the error body.
/// </summary>
public sealed class ApiException(int statusCode, string message, string type, string? param = null, string? code = null) : Exception(message)
{
    public int StatusCode { get; } = statusCode;

    public ApiErrorDetail Detail { get; } = new(message, type, param, code);

    /// <summary>Seconds after which a client should try again (503), or null.</summary>
    public int? RetryAfterSeconds { get; init; }

    public static ApiException BadRequest(string message, string? param = null, string? code = null) =>
        new(StatusCodes.Status400BadRequest, message, ErrorTypes.InvalidRequest, param, code);

    public static ApiException Unavailable(string message, string code, int retryAfterSeconds) =>
        new(StatusCodes.Status503ServiceUnavailable, message, ErrorTypes.Server, code: code) { RetryAfterSeconds = retryAfterSeconds };
}
