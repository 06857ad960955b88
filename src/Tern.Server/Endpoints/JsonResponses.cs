using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Tern.Server.Protocol;

namespace Tern.Server.Endpoints;

/// <summary>Writes answers and errors as JSON with the source-generated serializers.</summary>
internal static class JsonResponses
{
    public static async Task WriteAsync<T>(HttpResponse response, int statusCode, T value, JsonTypeInfo<T> typeInfo)
    {
        response.StatusCode = statusCode;
        response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(response.Body, value, typeInfo, response.HttpContext.RequestAborted).ConfigureAwait(false);
    }

    public static Task WriteErrorAsync(HttpResponse response, ApiException error)
    {
        if (error.RetryAfterSeconds is { } seconds)
            response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return WriteErrorAsync(response, error.StatusCode, error.Detail);
    }

    public static Task WriteErrorAsync(HttpResponse response, int statusCode, ApiErrorDetail detail) =>
        WriteAsync(response, statusCode, new ApiError(detail), ServerJson.Context.ApiError);
}
