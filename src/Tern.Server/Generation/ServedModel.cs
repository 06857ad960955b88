using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Tern.Chat;
using Tern.Inference;
using Tern.Models;
using Tern.Server.Metrics;
using Tern.Text;

namespace Tern.Server.Generation;

/// <summary>
/// The loaded model as the server uses it: shared read-only by every request, with its tokenizer, chat template and
/// the slots that generate at once.
/// <para>
/// The engine computes one forward pass at a time per model (its matrices keep per-product scratch, and its worker
/// pool runs one product at a time, on all its threads), so the sessions take turns: each step (a chunk of a
/// prompt, or one token) waits for the model's gate, computes on all threads and lets the next waiter in. The gate
/// serves waiters in order, so N sessions interleave their tokens round-robin and each one's reply streams at about
/// 1/N of the model's speed; nothing waits while a client reads its tokens. The gate is the one every
/// <see cref="TernChatClient"/> of the model uses, so chat clients in the same process take turns with the server.
/// </para>
/// </summary>
internal sealed class ServedModel : IDisposable
{
    private readonly SemaphoreSlim _turns;
    private readonly ServerMetrics _metrics;

    public ServedModel(TernModel model, string id, TernServerOptions options, ServerMetrics metrics)
    {
        Model = model;
        Id = id;
        _metrics = metrics;
        Tokenizer = GgufTokenizer.Create(model.Metadata);
        // The chat client formats and tokenizes conversations exactly as the library does; generation itself runs
        // here, a turn per step, since the client holds the model for a whole reply.
        Formatter = new TernChatClient(model, Tokenizer, new TernChatClientOptions
        {
            Template = options.Template is { } name ? ChatTemplate.FromName(name) : null,
            ContextLength = options.ContextLength,
        });
        ContextLength = Formatter.ContextLength;
        Slots = new SlotPool(model, ContextLength, options.Parallel, options.QueueLength);
        _turns = ModelGate.For(model);
    }

    public TernModel Model { get; }

    /// <summary>The name clients see in /v1/models and every answer.</summary>
    public string Id { get; }

    public GgufTokenizer Tokenizer { get; }

    public TernChatClient Formatter { get; }

    public ChatTemplate Template => Formatter.Template;

    /// <summary>Each session's KV cache in tokens: a prompt and its reply must fit.</summary>
    public int ContextLength { get; }

    public SlotPool Slots { get; }

    /// <summary>The prompt of a conversation, through the model's chat template.</summary>
    public int[] TokenizeChat(IEnumerable<ChatMessage> messages) => Formatter.TokenizePrompt(messages);

    /// <summary>The prompt of a completion: BOS as the model asks, special tokens recognized; an empty prompt is BOS alone.</summary>
    public int[] TokenizeText(string prompt)
    {
        var ids = Tokenizer.Encode(prompt, Tokenizer.AddBos, parseSpecial: true);
        return ids.Length == 0 ? [Tokenizer.BosId] : ids;
    }

    /// <summary>
    /// Generates in <paramref name="slot"/>: the pieces of text as they come (never empty; text that could start a stop
    /// sequence is held back until it is known not to), with the counts and the finish reason in
    /// <paramref name="outcome"/>. Cancelling stops it before its next step.
    /// </summary>
    public async IAsyncEnumerable<string> GenerateAsync(SessionSlot slot, GenerationRequest request, GenerationOutcome outcome,
        [EnumeratorCancellation] CancellationToken cancellation)
    {
        var cache = slot.Cache;
        var session = cache.Session;
        int[] prompt = request.Prompt;
        int reused = cache.Reuse(prompt);
        outcome.PromptTokens = prompt.Length;
        outcome.CachedTokens = reused;
        _metrics.PromptEvaluated(prompt.Length, reused);
        var evaluated = new List<int>(prompt.Length - reused + Math.Min(request.MaxTokens, ContextLength));
        var filter = new StopSequenceFilter(request.StopSequences);
        try
        {
            // The prompt but its last token, a chunk per turn, so that a long prompt does not stall the other
            // sessions' tokens for the whole of its evaluation.
            int last = prompt.Length - 1;
            for (int start = reused; start < last; start += Transformer.ChunkTokens)
            {
                int count = Math.Min(Transformer.ChunkTokens, last - start);
                int from = start;
                await OnTurnAsync(() => session.Evaluate(prompt.AsSpan(from, count)).Length, cancellation).ConfigureAwait(false);
                evaluated.AddRange(prompt.AsSpan(from, count));
            }

            // The last prompt token goes to the generator, whose every step (sample, evaluate the token) is one turn.
            evaluated.Add(prompt[last]);
            var generator = new TextGenerator(session, Tokenizer);
            using var steps = generator.Generate([prompt[last]], request.MaxTokens, request.Sampling, cancellation).GetEnumerator();
            while (await OnTurnAsync(steps.MoveNext, cancellation).ConfigureAwait(false))
            {
                var token = steps.Current;
                if (token.Id >= 0)
                {
                    evaluated.Add(token.Id);
                    outcome.CompletionTokens++;
                    _metrics.TokenGenerated();
                }

                string text = filter.Push(token.Text);
                if (text.Length > 0)
                    yield return text;
                if (filter.Stopped)
                    break;
            }

            string rest = filter.Flush();
            if (rest.Length > 0)
                yield return rest;
            bool endOfTurn = filter.Stopped || (outcome.CompletionTokens < request.MaxTokens && session.Position < ContextLength);
            outcome.FinishReason = endOfTurn ? "stop" : "length";
        }
        finally
        {
            cache.Commit(evaluated);
        }
    }

    /// <summary>Runs one step of computation when the model is this caller's, then hands the model to the next waiter.</summary>
    private async Task<T> OnTurnAsync<T>(Func<T> step, CancellationToken cancellation)
    {
        await _turns.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            return step();
        }
        finally
        {
            _turns.Release();
        }
    }

    public void Dispose()
    {
        Formatter.Dispose();
        Slots.Dispose();
        Model.Dispose();
    }
}
