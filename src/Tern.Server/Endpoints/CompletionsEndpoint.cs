using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Tern.Server.Generation;
using Tern.Server.Hosting;
using Tern.Server.Protocol;

namespace Tern.Server.Endpoints;

/// <summary>
/// POST /v1/completions: the continuation of a prompt (a string, an array of one string, or an array of token ids),
/// whole or streamed as server-sent events, then [DONE]. As OpenAI's, the reply is 16 tokens unless max_tokens says.
/// </summary>
internal static class CompletionsEndpoint
{
    private const int DefaultMaxTokens = 16;

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
            if (reader.OptionalBoolean("echo", whenAbsent: false))
                throw ApiException.BadRequest("'echo' is not supported", "echo");
            if (reader.OptionalString("suffix") is { Length: > 0 })
                throw ApiException.BadRequest("'suffix' is not supported: Tern's models continue text, they do not fill in", "suffix");
            if (reader.OptionalInteger("best_of", 1, 128) is > 1)
                throw ApiException.BadRequest("'best_of' is not supported: Tern generates one choice per request", "best_of");
            int[] prompt = Prompt(reader, served);
            stream = reader.OptionalBoolean("stream", whenAbsent: false);
            includeUsage = StreamOptions.IncludeUsage(reader);
            request = GenerationParameters.Read(reader, served, prompt, "prompt", DefaultMaxTokens, templateStops: []);
        }

        using var lease = await served.Slots.AcquireAsync(context.RequestAborted, host.Stopping).ConfigureAwait(false);
        string id = "cmpl-" + Guid.NewGuid().ToString("N");
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var outcome = new GenerationOutcome();
        var completionType = ServerJson.Context.TextCompletion;
        if (!stream)
        {
            if (await GenerationStream.CollectAsync(context, host, served, lease.Slot, request, outcome, "the completion").ConfigureAwait(false) is not { } text)
                return;
            var completion = new TextCompletion(id, created, served.Id, [new TextChoice(text, 0, outcome.FinishReason)]) { Usage = outcome.ToUsage() };
            await JsonResponses.WriteAsync(context.Response, StatusCodes.Status200OK, completion, completionType).ConfigureAwait(false);
            return;
        }

        var events = ServerSentEventWriter.Start(context.Response);
        TextCompletion Piece(string text, string? finishReason) => new(id, created, served.Id, [new TextChoice(text, 0, finishReason)]);
        var ending = await GenerationStream.RunAsync(context, host, served, lease.Slot, request, outcome,
            (piece, cancellation) => events.WriteAsync(Piece(piece, null), completionType, cancellation)).ConfigureAwait(false);
        if (ending == GenerationEnd.ClientLeft)
            return;
        if (ending == GenerationEnd.ServerStopping)
        {
            await events.WriteErrorAsync(new ApiErrorDetail("the server stopped before the completion was done", ErrorTypes.Server, null, "shutting_down"), context.RequestAborted).ConfigureAwait(false);
            return;
        }

        await events.WriteAsync(Piece("", outcome.FinishReason), completionType, context.RequestAborted).ConfigureAwait(false);
        if (includeUsage)
            await events.WriteAsync(new TextCompletion(id, created, served.Id, []) { Usage = outcome.ToUsage() }, completionType, context.RequestAborted).ConfigureAwait(false);
        await events.WriteDoneAsync(context.RequestAborted).ConfigureAwait(false);
    }

    private static int[] Prompt(RequestReader reader, ServedModel served)
    {
        const string name = "prompt";
        if (reader.Field(name) is not { } prompt)
            throw ApiException.BadRequest("'prompt' is required: a string, or an array of token ids", name);
        if (prompt.ValueKind == JsonValueKind.String)
            return served.TokenizeText(prompt.GetString()!);
        if (prompt.ValueKind != JsonValueKind.Array)
            throw RequestReader.WrongType(name, "a string or an array of token ids", prompt);
        int length = prompt.GetArrayLength();
        if (length == 0)
            throw ApiException.BadRequest("'prompt' is an empty array", name);
        if (length == 1 && prompt[0].ValueKind == JsonValueKind.String)
            return served.TokenizeText(prompt[0].GetString()!);
        if (prompt[0].ValueKind == JsonValueKind.String)
            throw ApiException.BadRequest($"'prompt' holds {length} strings: Tern completes one prompt per request", name);

        var ids = new int[length];
        int vocabulary = served.Model.Config.VocabSize;
        for (int i = 0; i < length; i++)
        {
            var item = prompt[i];
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out ids[i]) || ids[i] < 0 || ids[i] >= vocabulary)
                throw ApiException.BadRequest($"'prompt[{i}]' is {item.GetRawText()}; a token id is an integer from 0 to {vocabulary - 1}", $"prompt[{i}]");
        }

        return ids;
    }
}
