using System.Text.Json.Serialization;

namespace Tern.Server.Protocol;

/// <summary>
/// Source-generated serializers for every answer, so the server needs no reflection (NativeAOT). Requests are read
/// field by field instead (<see cref="RequestReader"/>), which names the field at fault in its errors.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(ApiError))]
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(ChatCompletion))]
[JsonSerializable(typeof(ChatCompletionChunk))]
[JsonSerializable(typeof(TextCompletion))]
[JsonSerializable(typeof(HealthStatus))]
internal sealed partial class ServerJsonContext : JsonSerializerContext;
