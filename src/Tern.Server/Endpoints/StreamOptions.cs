using System.Text.Json;
using Tern.Server.Protocol;

namespace Tern.Server.Endpoints;

/// <summary>OpenAI's stream_options: {"include_usage": true} adds a last chunk with the usage and no choices.</summary>
internal static class StreamOptions
{
    public static bool IncludeUsage(RequestReader reader)
    {
        if (reader.Field("stream_options") is not { } options)
            return false;
        if (options.ValueKind != JsonValueKind.Object)
            throw RequestReader.WrongType("stream_options", "an object", options);
        if (!options.TryGetProperty("include_usage", out var include) || include.ValueKind == JsonValueKind.Null)
            return false;
        return include.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw RequestReader.WrongType("stream_options.include_usage", "a boolean", include),
        };
    }
}
