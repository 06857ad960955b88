using Tern.Gguf;
using Tern.Inference.Placement;
using Tern.Models;
using Tern.Runtime;

namespace Tern.Inference;

/// <summary>
/// A model loaded once from a GGUF file and shared read-only; conversations run in <see cref="Session"/>s.
/// This first engine computes with the scalar reference kernels; optimized kernels replace them behind the same API.
/// </summary>
public sealed class TernModel : IDisposable
{
    private readonly GgufFile _file;
    private readonly WorkerPool _pool;

    private TernModel(GgufFile file, ModelConfig config, ModelWeights weights, WorkerPool pool, IModelOffload? offload)
    {
        _file = file;
        Config = config;
        Weights = weights;
        _pool = pool;
        Offload = offload;
    }

    /// <summary>The part of the model on a device, or null when the CPU computes all of it.</summary>
    public IModelOffload? Offload { get; }

    /// <summary>Where the model computes, in a line: "CPU" or the device's summary.</summary>
    public string Backend => Offload?.Summary ?? "CPU";

    internal WorkerPool Pool => _pool;

    /// <summary>Threads that compute the products.</summary>
    public int Threads => _pool.Threads;

    public ModelConfig Config { get; }

    public ModelWeights Weights { get; }

    public GgufMetadata Metadata => _file.Metadata;

    /// <remarks>The matrices keep per-product scratch buffers: one session computes at a time.</remarks>
    public static TernModel Load(string path, TernModelOptions? options = null)
    {
        options ??= new TernModelOptions();
        if (options.Threads < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.Threads, "at least one thread is needed");
        var file = GgufFile.Open(path);
        WorkerPool? pool = null;
        IModelOffload? offload = null;
        try
        {
            var config = ModelConfig.FromGguf(file);
            var weights = ModelWeights.Load(file, config, options.HeadType);
            pool = new WorkerPool(options.Threads);
            foreach (var matrix in weights.Matrices)
                matrix.Pool = pool;
            if (options.Accelerator is { } accelerator && options.Placement.UsesGpu(config.BlockCount))
            {
                offload = accelerator.Offload(file, config, weights, options.Placement, pool);
                weights = offload.HostWeights;
            }

            // Loading decodes and repacks through temporary arrays (a TQ tensor's values, a requantized head's rows):
            // give that memory back now rather than whenever the collector next runs, so resident memory stays near
            // the file's size.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            return new TernModel(file, config, weights, pool, offload);
        }
        catch
        {
            offload?.Dispose();
            pool?.Dispose();
            file.Dispose();
            throw;
        }
    }

    /// <summary>A new conversation with its own KV cache of <paramref name="contextLength"/> tokens (default: the model's).</summary>
    public Session CreateSession(int? contextLength = null)
    {
        int context = contextLength ?? Config.ContextLength;
        if (context <= 0 || context > Config.ContextLength)
            throw new ArgumentOutOfRangeException(nameof(contextLength), context, $"the context must be between 1 and the model's {Config.ContextLength} tokens");
        return new Session(this, context);
    }

    public void Dispose()
    {
        Offload?.Dispose();
        _pool.Dispose();
        _file.Dispose();
    }
}
