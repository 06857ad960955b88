namespace Tern.Server.Protocol;

/// <summary>
/// What went wrong: a sentence for people, OpenAI's error type (invalid_request_error, server_error, …), the request
/// field at fault and a code for programs; param and code are null when they do not apply, as OpenAI writes them.
/// </summary>
public sealed record ApiErrorDetail(string Message, string Type, string? Param, string? Code);
