using Tern.Inference;
using Tern.Server.Generation;
using Tern.Server.Metrics;
using Tern.Server.Protocol;

namespace Tern.Server.Hosting;

/// <summary>
/// Loads the model once, in the background, while the server already answers /health (503 until it is ready), and
/// cancels generations that outlive the shutdown's grace period. The model is disposed after the server has stopped.
/// </summary>
internal sealed class ModelHost : IDisposable
{
    private readonly TernServerOptions _options;
    private readonly ServerMetrics _metrics;
    private readonly CancellationTokenSource _draining = new();
    private ServedModel? _served;
    private Exception? _failure;

    public ModelHost(TernServerOptions options, ServerMetrics metrics)
    {
        _options = options;
        _metrics = metrics;
        metrics.Gauges = () => _served is { } s ? (s.Slots.Waiting, s.Slots.Active, s.Slots.Slots, true) : (0, 0, options.Parallel, false);
    }

    public ModelState State => _served is not null ? ModelState.Ready : _failure is not null ? ModelState.Failed : ModelState.Loading;

    /// <summary>Why loading failed (the message names the file and the field), or null.</summary>
    public Exception? Failure => _failure;

    /// <summary>Cancelled when the server stops and the grace period is over: generations still running stop.</summary>
    public CancellationToken Draining => _draining.Token;

    /// <summary>Set when the server begins to stop: requests still waiting for a session are turned away.</summary>
    public CancellationToken Stopping { get; set; }

    /// <summary>Loads the model; the task ends with the model ready, or faults with the reason it could not load.</summary>
    public Task LoadAsync() => Task.Run(() =>
    {
        TernModel? model = null;
        try
        {
            model = TernModel.Load(_options.ModelPath, _options.Model);
            string id = _options.ModelId ?? Path.GetFileNameWithoutExtension(_options.ModelPath);
            Volatile.Write(ref _served, new ServedModel(model, id, _options, _metrics));
        }
        catch (Exception e)
        {
            model?.Dispose();
            _failure = e;
            throw;
        }
    });

    /// <summary>The model, or a 503 (with Retry-After while it loads).</summary>
    public ServedModel Require() => Volatile.Read(ref _served) ?? throw (_failure is null
        ? ApiException.Unavailable("the model is still loading; try again shortly", "model_loading", retryAfterSeconds: 1)
        : ApiException.Unavailable($"the model could not be loaded: {_failure.Message}", "model_failed", retryAfterSeconds: 60));

    /// <summary>Stops the generations still in progress once <paramref name="grace"/> has passed.</summary>
    public void CancelGenerations(TimeSpan grace) => _draining.CancelAfter(grace);

    public void Dispose()
    {
        _served?.Dispose();
        _draining.Dispose();
    }
}
