using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.AI;
using Tern.Gguf;
using Tern.Inference;
using Tern.Text;

namespace Tern.Chat;

/// <summary>
/// <see cref="IChatClient"/> over a loaded <see cref="TernModel"/>: the conversation goes through the model's chat
/// template, and the reply streams token by token. Safe for concurrent use: calls take turns on the model (its
/// matrices compute one session at a time). The client keeps one KV cache; a call whose conversation continues the
/// previous one (same messages, the reply, a new message) evaluates only the new tokens.
/// </summary>
public sealed class TernChatClient : IChatClient
{
    private const int DefaultContextLimit = 4096;

    private readonly SemaphoreSlim _gate;
    private readonly TernChatClientOptions _options;
    private readonly Lock _cacheLock = new();
    private PrefixCachedSession? _cache;
    private bool _disposed, _busy;

    /// <param name="model">Shared, not owned: the caller disposes it after the client.</param>
    /// <param name="tokenizer">Default: built from the model's metadata.</param>
    public TernChatClient(TernModel model, GgufTokenizer? tokenizer = null, TernChatClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Model = model;
        Tokenizer = tokenizer ?? GgufTokenizer.Create(model.Metadata);
        _options = options ?? new TernChatClientOptions();
        _options.Sampling.Validate();
        if (_options.MaxOutputTokens is < 0)
            throw new ArgumentOutOfRangeException(nameof(options), _options.MaxOutputTokens, "MaxOutputTokens must be 0 or more");
        Template = _options.Template ?? ChatTemplate.ForModel(model.Metadata);
        ContextLength = _options.ContextLength ?? Math.Min(model.Config.ContextLength, DefaultContextLimit);
        if (ContextLength < 1 || ContextLength > model.Config.ContextLength)
            throw new ArgumentOutOfRangeException(nameof(options), ContextLength, $"the context must be between 1 and the model's {model.Config.ContextLength} tokens");
        ModelId = model.Metadata.GetStringOrDefault(GgufKeys.Name) ?? model.Config.Architecture;
        Metadata = new ChatClientMetadata("tern", providerUri: null, ModelId);
        _gate = ModelGate.For(model);
    }

    public TernModel Model { get; }

    public GgufTokenizer Tokenizer { get; }

    public ChatTemplate Template { get; }

    /// <summary>The KV cache's length: a conversation and its reply must fit in it.</summary>
    public int ContextLength { get; }

    /// <summary>The model's general.name, or its architecture when the file has no name.</summary>
    public string ModelId { get; }

    public ChatClientMetadata Metadata { get; }

    /// <summary>The prompt's tokens: the conversation through the template (ChatOptions.Instructions first, as a system message).</summary>
    public int[] TokenizePrompt(IEnumerable<ChatMessage> messages, ChatOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var turns = new List<ChatTemplateMessage>();
        if (options?.Instructions is { Length: > 0 } instructions)
            turns.Add(ChatTemplateMessage.System(instructions));
        foreach (var message in messages)
            turns.Add(new ChatTemplateMessage(message.Role.Value, message.Text));
        // The template writes BOS itself (as its Jinja original does), so the tokenizer must not add another.
        string bos = Tokenizer.AddBos ? Tokenizer.TokenText(Tokenizer.BosId) : "";
        return Tokenizer.Encode(Template.Format(turns, bos), addBos: false, parseSpecial: true);
    }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var text = new StringBuilder();
        var response = new ChatResponse();
        string? messageId = null;
        await foreach (var update in GetStreamingResponseAsync(messages, options, cancellationToken).ConfigureAwait(false))
        {
            text.Append(update.Text);
            messageId ??= update.MessageId;
            response.ResponseId ??= update.ResponseId;
            response.CreatedAt ??= update.CreatedAt;
            response.FinishReason = update.FinishReason ?? response.FinishReason;
            foreach (var usage in update.Contents.OfType<UsageContent>())
                response.Usage = usage.Details;
        }

        response.ModelId = ModelId;
        response.Messages.Add(new ChatMessage(ChatRole.Assistant, text.ToString()) { MessageId = messageId, CreatedAt = response.CreatedAt });
        return response;
    }

    /// <summary>
    /// One update per generated piece of text, then a last one with the finish reason (Stop at the end of the
    /// turn or a stop sequence, Length at MaxOutputTokens or the end of the context) and the usage (input tokens,
    /// of which CachedInputTokenCount came from the previous call's cache, and output tokens).
    /// </summary>
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var sampling = SamplingFor(options);
        int maxTokens = MaxOutputTokensFor(options);
        var filter = new StopSequenceFilter([.. Template.StopSequences, .. options?.StopSequences ?? []]);
        int[] prompt = TokenizePrompt(messages, options);
        if (prompt.Length > ContextLength)
            throw new ArgumentException($"the conversation is {prompt.Length} tokens, longer than the context of {ContextLength} tokens", nameof(messages));

        string responseId = Guid.NewGuid().ToString("N");
        var created = DateTimeOffset.UtcNow;
        ChatResponseUpdate Update(IList<AIContent> contents) =>
            new(ChatRole.Assistant, contents) { ResponseId = responseId, MessageId = responseId, CreatedAt = created, ModelId = ModelId };

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            lock (_cacheLock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                _busy = true;
            }

            var cache = _cache ??= new PrefixCachedSession(Model.CreateSession(ContextLength));
            int reused = cache.Reuse(prompt);
            var evaluated = new List<int>(prompt[reused..]);
            var generator = new TextGenerator(cache.Session, Tokenizer);
            int generated = 0;
            try
            {
                await foreach (var token in generator.GenerateAsync(prompt[reused..], maxTokens, sampling, cancellationToken).ConfigureAwait(false))
                {
                    if (token.Id >= 0)
                    {
                        evaluated.Add(token.Id);
                        generated++;
                    }

                    string text = filter.Push(token.Text);
                    if (text.Length > 0)
                        yield return Update([new TextContent(text)]);
                    if (filter.Stopped)
                        break;
                }
            }
            finally
            {
                cache.Commit(evaluated);
            }

            string rest = filter.Flush();
            if (rest.Length > 0)
                yield return Update([new TextContent(rest)]);

            bool endOfTurn = filter.Stopped || (generated < maxTokens && cache.Session.Position < ContextLength);
            var usage = new UsageDetails
            {
                InputTokenCount = prompt.Length,
                CachedInputTokenCount = reused,
                OutputTokenCount = generated,
                TotalTokenCount = prompt.Length + generated,
            };
            var last = Update([new UsageContent(usage)]);
            last.FinishReason = endOfTurn ? ChatFinishReason.Stop : ChatFinishReason.Length;
            yield return last;
        }
        finally
        {
            lock (_cacheLock)
            {
                _busy = false;
                if (_disposed)
                    FreeCache();
            }

            _gate.Release();
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
            return null;
        if (serviceType == typeof(ChatClientMetadata))
            return Metadata;
        if (serviceType.IsInstanceOfType(this))
            return this;
        if (serviceType.IsInstanceOfType(Model))
            return Model;
        return serviceType.IsInstanceOfType(Tokenizer) ? Tokenizer : null;
    }

    /// <summary>Closes the client and frees its session (at the end of a call still in progress); the model is the caller's to dispose.</summary>
    public void Dispose()
    {
        lock (_cacheLock)
        {
            _disposed = true;
            if (!_busy)
                FreeCache();
        }
    }

    private void FreeCache()
    {
        _cache?.Dispose();
        _cache = null;
    }

    private SamplingOptions SamplingFor(ChatOptions? options)
    {
        var defaults = _options.Sampling;
        if (options is null)
            return defaults;
        var sampling = defaults with
        {
            Temperature = options.Temperature ?? defaults.Temperature,
            TopP = options.TopP ?? defaults.TopP,
            TopK = options.TopK ?? defaults.TopK,
            // The sampler's Random takes an int seed; distinct long seeds may meet, the same seed always repeats.
            Seed = options.Seed is { } seed ? unchecked((int)(seed ^ (seed >> 32))) : defaults.Seed,
        };
        sampling.Validate();
        return sampling;
    }

    private int MaxOutputTokensFor(ChatOptions? options)
    {
        int? max = options?.MaxOutputTokens ?? _options.MaxOutputTokens;
        if (max is < 0)
            throw new ArgumentOutOfRangeException(nameof(options), max, "MaxOutputTokens must be 0 or more");
        // Without a limit, the end of the turn or of the context ends the reply.
        return max ?? int.MaxValue;
    }
}
