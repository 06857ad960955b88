namespace Tern.Server.Protocol;

/// <summary>The body of every error, in OpenAI's shape: <c>{"error": {"message", "type", "param", "code"}}</c>.</summary>
public sealed record ApiError(ApiErrorDetail Error);
