using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Tern.Server.Metrics;

/// <summary>
/// The server's counters, written as Prometheus text at GET /metrics: requests by endpoint and status, prompt and
/// generated tokens, generated tokens per second over the last <see cref="RateWindow"/>, the queue and the sessions.
/// Counters are interlocked increments; the rate takes a lock for a few instructions per token.
/// </summary>
public sealed class ServerMetrics
{
    /// <summary>The window of the tokens-per-second gauge.</summary>
    public static readonly TimeSpan RateWindow = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<(string Endpoint, int Status), long> _requests = new();
    private readonly TokenRate _rate = new(RateWindow);
    private long _promptTokens, _cachedPromptTokens, _generatedTokens, _rejected, _cancelled;

    /// <summary>Reads the live gauges (queue length, active sessions, slots, loaded) when the metrics are written.</summary>
    internal Func<(int Waiting, int Active, int Slots, bool Loaded)>? Gauges { get; set; }

    public long GeneratedTokens => Interlocked.Read(ref _generatedTokens);

    public void RequestFinished(string endpoint, int status) => _requests.AddOrUpdate((endpoint, status), 1, (_, n) => n + 1);

    public void PromptEvaluated(int tokens, int cached)
    {
        Interlocked.Add(ref _promptTokens, tokens);
        Interlocked.Add(ref _cachedPromptTokens, cached);
    }

    public void TokenGenerated()
    {
        Interlocked.Increment(ref _generatedTokens);
        _rate.Add(1);
    }

    /// <summary>A request refused because the queue was full.</summary>
    public void Rejected() => Interlocked.Increment(ref _rejected);

    /// <summary>A generation stopped early because its client left or the server stopped.</summary>
    public void Cancelled() => Interlocked.Increment(ref _cancelled);

    public string ToPrometheusText()
    {
        var text = new StringBuilder();
        var (waiting, active, slots, loaded) = Gauges?.Invoke() ?? (0, 0, 0, false);
        text.AppendLine("# HELP tern_requests_total HTTP requests answered, by endpoint and status code.");
        text.AppendLine("# TYPE tern_requests_total counter");
        foreach (var ((endpoint, status), count) in _requests.OrderBy(r => r.Key.Endpoint, StringComparer.Ordinal).ThenBy(r => r.Key.Status))
            text.Append(CultureInfo.InvariantCulture, $"tern_requests_total{{endpoint=\"{endpoint}\",status=\"{status}\"}} {count}\n");
        Counter(text, "tern_requests_rejected_total", "Requests refused with 503 because the queue was full.", Interlocked.Read(ref _rejected));
        Counter(text, "tern_generations_cancelled_total", "Generations stopped early: the client left or the server stopped.", Interlocked.Read(ref _cancelled));
        Counter(text, "tern_prompt_tokens_total", "Prompt tokens of all requests.", Interlocked.Read(ref _promptTokens));
        Counter(text, "tern_prompt_tokens_cached_total", "Prompt tokens found in a session's KV cache (not evaluated again).", Interlocked.Read(ref _cachedPromptTokens));
        Counter(text, "tern_generated_tokens_total", "Tokens generated.", GeneratedTokens);
        Gauge(text, "tern_tokens_per_second", $"Tokens generated per second over the last {RateWindow.TotalSeconds:0} s, all sessions together.", _rate.PerSecond());
        Gauge(text, "tern_queue_length", "Requests waiting for a session.", waiting);
        Gauge(text, "tern_active_sessions", "Sessions generating now.", active);
        Gauge(text, "tern_sessions", "Sessions that may generate at once (--parallel).", slots);
        Gauge(text, "tern_model_loaded", "1 once the model is loaded.", loaded ? 1 : 0);
        return text.ToString();
    }

    private static void Counter(StringBuilder text, string name, string help, long value) =>
        text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n");

    private static void Gauge(StringBuilder text, string name, string help, double value) =>
        text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value:0.###}\n");
}
