using Tern.Gguf;
using Tern.Models;

namespace Tern.Inference;

/// <summary>
/// A model loaded once from a GGUF file and shared read-only; conversations run in <see cref="Session"/>s.
/// This first engine computes with the scalar reference kernels; optimized kernels replace them behind the same API.
/// </summary>
public sealed class TernModel : IDisposable
{
    private readonly GgufFile _file;

    private TernModel(GgufFile file, ModelConfig config, ModelWeights weights)
    {
        _file = file;
        Config = config;
        Weights = weights;
    }

    public ModelConfig Config { get; }

    public ModelWeights Weights { get; }

    public GgufMetadata Metadata => _file.Metadata;

    public static TernModel Load(string path)
    {
        var file = GgufFile.Open(path);
        try
        {
            var config = ModelConfig.FromGguf(file);
            return new TernModel(file, config, ModelWeights.Load(file, config));
        }
        catch
        {
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

    public void Dispose() => _file.Dispose();
}
