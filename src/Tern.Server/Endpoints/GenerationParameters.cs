using Tern.Inference;
using Tern.Server.Generation;
using Tern.Server.Protocol;

namespace Tern.Server.Endpoints;

/// <summary>
/// The fields that chat and text completions share: the reply's length, sampling and stop sequences, each checked
/// against its range, and the prompt with its reply against the context.
/// </summary>
internal static class GenerationParameters
{
    /// <param name="promptParam">The field that holds the prompt ("messages" or "prompt"), named when it is too long.</param>
    /// <param name="defaultMaxTokens">The reply's length when the request names none; null: as much as the context holds.</param>
    public static GenerationRequest Read(RequestReader reader, ServedModel served, int[] prompt, string promptParam, int? defaultMaxTokens,
        IReadOnlyList<string> templateStops)
    {
        if (reader.OptionalInteger("n", 1, 128) is > 1 and var n)
            throw ApiException.BadRequest($"'n' is {n}: Tern generates one choice per request", "n");
        foreach (string penalty in (ReadOnlySpan<string>)["frequency_penalty", "presence_penalty"])
        {
            if (reader.OptionalNumber(penalty, -2, 2) is { } value && value != 0)
                throw ApiException.BadRequest($"'{penalty}' is not supported; 'repeat_penalty' (above 1 discourages repeats) is", penalty);
        }

        int context = served.ContextLength;
        int room = context - prompt.Length;
        if (room < 1)
        {
            throw ApiException.BadRequest(
                $"the prompt is {prompt.Length} tokens; a session's context holds {context}, and the reply needs at least one",
                promptParam, "context_length_exceeded");
        }

        string maxParam = reader.Field("max_completion_tokens") is null ? "max_tokens" : "max_completion_tokens";
        long? asked = reader.OptionalInteger(maxParam, 1, int.MaxValue);
        if (asked > room)
        {
            throw ApiException.BadRequest(
                $"'{maxParam}' is {asked}, and with the prompt's {prompt.Length} tokens that passes the context of {context} tokens; ask for at most {room}",
                maxParam, "context_length_exceeded");
        }

        int maxTokens = asked is { } a ? (int)a : Math.Min(defaultMaxTokens ?? room, room);
        var defaults = new SamplingOptions();
        var sampling = defaults with
        {
            Temperature = (float)(reader.OptionalNumber("temperature", 0, 2) ?? defaults.Temperature),
            TopP = TopP(reader) ?? defaults.TopP,
            TopK = (int)(reader.OptionalInteger("top_k", 0, int.MaxValue) ?? defaults.TopK),
            MinP = (float)(reader.OptionalNumber("min_p", 0, 1) ?? defaults.MinP),
            RepeatPenalty = RepeatPenalty(reader) ?? defaults.RepeatPenalty,
            // Without a seed every request draws differently, as OpenAI's do; with one, the same request repeats exactly.
            // The sampler takes an int seed: distinct long seeds may meet, the same seed always repeats.
            Seed = reader.OptionalInteger("seed", long.MinValue, long.MaxValue) is { } seed ? unchecked((int)(seed ^ (seed >> 32))) : Random.Shared.Next(),
        };
        return new GenerationRequest(prompt, maxTokens, sampling, [.. templateStops, .. reader.StopSequences()]);
    }

    private static float? TopP(RequestReader reader)
    {
        if (reader.OptionalNumber("top_p", 0, 1) is not { } topP)
            return null;
        return topP > 0 ? (float)topP : throw ApiException.BadRequest("'top_p' is 0; it must be above 0 and at most 1", "top_p");
    }

    private static float? RepeatPenalty(RequestReader reader)
    {
        if (reader.OptionalNumber("repeat_penalty", 0, 10) is not { } penalty)
            return null;
        return penalty > 0 ? (float)penalty : throw ApiException.BadRequest("'repeat_penalty' is 0; it must be above 0 (1 is off)", "repeat_penalty");
    }
}
