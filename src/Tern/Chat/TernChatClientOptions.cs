using Tern.Inference;

namespace Tern.Chat;

/// <summary>How a <see cref="TernChatClient"/> formats, samples and bounds its replies; <c>ChatOptions</c> override per call.</summary>
public sealed record TernChatClientOptions
{
    /// <summary>The chat template; default: the one the model file asks for (<see cref="ChatTemplate.ForModel"/>).</summary>
    public ChatTemplate? Template { get; init; }

    /// <summary>The KV cache's length in tokens; default: the model's, at most 4096.</summary>
    public int? ContextLength { get; init; }

    /// <summary>Sampling when the call's ChatOptions leave a setting out (llama.cpp's defaults).</summary>
    public SamplingOptions Sampling { get; init; } = new();

    /// <summary>Reply length when the call's ChatOptions.MaxOutputTokens is not set; default: until the end of the turn or of the context.</summary>
    public int? MaxOutputTokens { get; init; }
}
