using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Tern.Server.Generation;
using Tern.Server.Hosting;
using Tern.Server.Protocol;

namespace Tern.Server.Endpoints;

/// <summary>
/// POST /v1/chat/completions: the conversation through the model's chat template, the reply whole or streamed as
/// server-sent events (a chunk naming the role, one chunk per piece of text as it is generated, a chunk with the
/// finish reason, the usage when stream_options.include_usage asks for it, then [DONE]).
/// </summary>
internal static class ChatCompletionsEndpoint
{
    public static async Task HandleAsync(HttpContext context)
    {
        var host = context.RequestServices.GetRequiredService<ModelHost>();
        var served = host.Require();
        var (document, reader) = await RequestReader.ReadAsync(context.Request, context.RequestAborted).ConfigureAwait(false);
        GenerationRequest request;
        bool stream, includeUsage;
        using (document)
        {
            reader.OptionalString("model");
            if (reader.Field("tools") is { ValueKind: JsonValueKind.Array } tools && tools.GetArrayLength() > 0)
                throw ApiException.BadRequest("'tools' is not supported: Tern does not call tools", "tools");
            var messages = ChatMessages.Read(reader);
            stream = reader.OptionalBoolean("stream", whenAbsent: false);
            includeUsage = StreamOptions.IncludeUsage(reader);
            request = GenerationParameters.Read(reader, served, served.TokenizeChat(messages), "messages", defaultMaxTokens: null, served.Template.StopSequences);
        }

        using var lease = await served.Slots.AcquireAsync(context.RequestAborted, host.Stopping).ConfigureAwait(false);
        string id = "chatcmpl-" + Guid.NewGuid().ToString("N");
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var outcome = new GenerationOutcome();
        if (!stream)
        {
            if (await GenerationStream.CollectAsync(context, host, served, lease.Slot, request, outcome, "the reply").ConfigureAwait(false) is not { } text)
                return;
            var completion = new ChatCompletion(id, created, served.Id, [new ChatChoice(0, new AssistantMessage(text), outcome.FinishReason!)], outcome.ToUsage());
            await JsonResponses.WriteAsync(context.Response, StatusCodes.Status200OK, completion, ServerJson.Context.ChatCompletion).ConfigureAwait(false);
            return;
        }

        var events = ServerSentEventWriter.Start(context.Response);
        var chunkType = ServerJson.Context.ChatCompletionChunk;
        ChatCompletionChunk Chunk(ChatDelta delta, string? finishReason) => new(id, created, served.Id, [new ChatChunkChoice(0, delta, finishReason)]);

        await events.WriteAsync(Chunk(new ChatDelta { Role = "assistant", Content = "" }, null), chunkType, context.RequestAborted).ConfigureAwait(false);
        var ending = await GenerationStream.RunAsync(context, host, served, lease.Slot, request, outcome,
            (piece, cancellation) => events.WriteAsync(Chunk(new ChatDelta { Content = piece }, null), chunkType, cancellation)).ConfigureAwait(false);
        if (ending == GenerationEnd.ClientLeft)
            return;
        if (ending == GenerationEnd.ServerStopping)
        {
            await events.WriteErrorAsync(new ApiErrorDetail("the server stopped before the reply was complete", ErrorTypes.Server, null, "shutting_down"), context.RequestAborted).ConfigureAwait(false);
            return;
        }

        await events.WriteAsync(Chunk(new ChatDelta(), outcome.FinishReason), chunkType, context.RequestAborted).ConfigureAwait(false);
        if (includeUsage)
            await events.WriteAsync(new ChatCompletionChunk(id, created, served.Id, []) { Usage = outcome.ToUsage() }, chunkType, context.RequestAborted).ConfigureAwait(false);
        await events.WriteDoneAsync(context.RequestAborted).ConfigureAwait(false);
    }
}
