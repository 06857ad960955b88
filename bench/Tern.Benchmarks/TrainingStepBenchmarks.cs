using BenchmarkDotNet.Attributes;
using Tern.Runtime;
using Tern.Training.Model;

namespace Tern.Benchmarks;

/// <summary>
/// One training step's forward and backward pass (no optimizer) of the shipped model's shape: bitnet-b1.58, 4 layers,
/// width 256, 4 heads, FFN 768, byte vocabulary, a batch of 16 × 256 tokens. Tokens/s = 4096 / the time.
/// </summary>
public class TrainingStepBenchmarks : IDisposable
{
    private const int Batch = 16, Context = 256;
    private TrainingModel<float> _model = null!;
    private WorkerPool _pool = null!;
    private int[] _tokens = null!, _targets = null!;

    [Params(1, 2)]
    public int Threads { get; set; }

    [Params(true, false)]
    public bool Quantized { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var shape = new ModelShape { VocabularySize = 257, Dim = 256, Layers = 4, Heads = 4, FfnDim = 768, Context = Context, Quantized = Quantized };
        var layout = new ParameterLayout(shape);
        _pool = new WorkerPool(Threads);
        _model = new TrainingModel<float>(layout, Batch, _pool);
        ParameterInitializer.Initialize(layout, _model.Parameters, 1);
        var random = new Random(2);
        _tokens = Enumerable.Range(0, Batch * Context).Select(_ => random.Next(257)).ToArray();
        _targets = Enumerable.Range(0, Batch * Context).Select(_ => random.Next(257)).ToArray();
    }

    [Benchmark(Description = "forward + backward, 16 × 256 tokens")]
    public double Step()
    {
        Array.Clear(_model.Gradients);
        return _model.ForwardBackward(_tokens, _targets, Batch);
    }

    [GlobalCleanup]
    public void Dispose() => _pool?.Dispose();
}
