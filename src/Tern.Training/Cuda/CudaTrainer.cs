using System.Diagnostics.CodeAnalysis;
using Tern.Cuda;
using Tern.Training.Data;
using Tern.Training.Model;
using Tern.Training.Runs;

namespace Tern.Training.Cuda;

/// <summary>
/// <see cref="TrainingLoop"/> on one GPU: the same initialization, batches, dropout keys, schedule, clipping,
/// validation windows, loss.csv and checkpoint file as <see cref="Trainer"/>, with the model and AdamW on the device (<see cref="CudaTrainingModel"/>, <see cref="CudaAdamW"/>). A step sends the batch's tokens
/// and reads back two numbers, the loss and the gradient norm; checkpoints copy the arenas to the host.
/// </summary>
public sealed class CudaTrainer : TrainingLoop, IDisposable
{
    private readonly CudaAdamW _adam;
    private CudaContext? _ownedContext;

    public CudaTrainer(TrainingOptions options, TextCorpus corpus, string outputDirectory, CudaContext context,
        CudaTrainingPrecision precision = CudaTrainingPrecision.BFloat16, KernelCompiler? compiler = null)
        : base(options, corpus, outputDirectory)
    {
        Model = new CudaTrainingModel(context, Layout, options.BatchSize, precision, compiler)
        {
            DropoutProbability = options.Dropout,
            AttentionDropoutProbability = options.AttentionDropout,
        };
        try
        {
            var initial = new float[Layout.Count];
            ParameterInitializer.Initialize(Layout, initial, options.Seed);
            Model.UploadParameters(initial);
            _adam = new CudaAdamW(Model) { Beta1 = options.Beta1, Beta2 = options.Beta2, Epsilon = options.AdamEpsilon };
        }
        catch
        {
            Model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The way in for a command line: opens the first GPU and builds the trainer on it (the trainer then owns the
    /// context), or returns false with one sentence saying why CUDA cannot be used here, throwing nothing for that.
    /// </summary>
    public static bool TryCreate(TrainingOptions options, TextCorpus corpus, string outputDirectory,
        [NotNullWhen(true)] out CudaTrainer? trainer, out string whyNot, CudaTrainingPrecision precision = CudaTrainingPrecision.BFloat16)
    {
        trainer = null;
        if (!CudaAvailability.TryCreate(out CudaContext? context, out whyNot))
            return false;
        try
        {
            trainer = new CudaTrainer(options, corpus, outputDirectory, context, precision) { _ownedContext = context };
            return true;
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    public CudaTrainingModel Model { get; }

    /// <summary>The GPU's name, e.g. "NVIDIA H100 80GB HBM3".</summary>
    public string DeviceName => Model.Context.Name;

    public override float[] ReadParameters()
    {
        var values = new float[Layout.Count];
        Model.DownloadParameters(values);
        return values;
    }

    public void Dispose()
    {
        _adam.Dispose();
        Model.Dispose();
        _ownedContext?.Dispose();
        _ownedContext = null;
    }

    protected override double ForwardBackward(TokenBatch batch, ulong dropoutKey)
    {
        Model.ZeroGradients();
        return Model.ForwardBackward(batch.Inputs, batch.Targets, Options.BatchSize, dropoutKey);
    }

    protected override double ClipGradients(double maxNorm) => Model.ClipGradients(maxNorm);

    protected override void Update(double learningRate, double weightDecay) => _adam.Update(learningRate, weightDecay);

    protected override double Evaluate(ReadOnlySpan<int> inputs, ReadOnlySpan<int> targets, int rows) => Model.Evaluate(inputs, targets, rows);

    protected override void Restore(TrainingCheckpoint checkpoint)
    {
        Model.UploadParameters(checkpoint.Parameters);
        _adam.FirstMoment.Upload(checkpoint.FirstMoment);
        _adam.SecondMoment.Upload(checkpoint.SecondMoment);
        _adam.Step = checkpoint.Step;
    }

    protected override (float[] First, float[] Second) ReadMoments()
    {
        var first = new float[Layout.Count];
        var second = new float[Layout.Count];
        _adam.FirstMoment.Download(first);
        _adam.SecondMoment.Download(second);
        return (first, second);
    }
}
