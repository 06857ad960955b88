namespace Tern.Server.Protocol;

/// <summary>The values of OpenAI's error.type that this server uses.</summary>
public static class ErrorTypes
{
    /// <summary>The request is at fault (400, 401, 404, 405, 413, 415).</summary>
    public const string InvalidRequest = "invalid_request_error";

    /// <summary>The server cannot answer now or failed (500, 503).</summary>
    public const string Server = "server_error";
}
