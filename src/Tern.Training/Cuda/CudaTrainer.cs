using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Tern.Cuda;
using Tern.Training.Data;
using Tern.Training.Model;
using Tern.Training.Randomness;
using Tern.Training.Reporting;
using Tern.Training.Runs;

namespace Tern.Training.Cuda;

/// <summary>
/// The training loop of <see cref="Trainer"/> on one GPU: the same initialization, batches (the same sampler and
/// seed), dropout keys, schedule, clipping, validation windows, loss.csv and checkpoint file, with the model and
/// AdamW on the device (<see cref="CudaTrainingModel"/>, <see cref="CudaAdamW"/>). A step sends the batch's tokens
/// and reads back two numbers, the loss and the gradient norm; checkpoints copy the arenas to the host.
/// </summary>
public sealed class CudaTrainer : ITrainer, IDisposable
{
    private readonly TrainingOptions _options;
    private readonly BatchSampler _sampler;
    private readonly ValidationWindows _validation;
    private readonly TokenBatch _batch;
    private readonly CudaAdamW _adam;
    private readonly Optimization.LearningRateSchedule _schedule;
    private double _elapsedBefore;
    private CudaContext? _ownedContext;

    public CudaTrainer(TrainingOptions options, TextCorpus corpus, string outputDirectory, CudaContext context,
        CudaTrainingPrecision precision = CudaTrainingPrecision.BFloat16, KernelCompiler? compiler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(corpus);
        options.Validate();
        _options = options;
        OutputDirectory = outputDirectory;
        var shape = options.Shape;
        Layout = new ParameterLayout(shape);
        Model = new CudaTrainingModel(context, Layout, options.BatchSize, precision, compiler) { DropoutProbability = options.Dropout };
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

        _sampler = new BatchSampler(corpus.Train, options.BatchSize, shape.Context, CounterHash.Derive(options.Seed, 1));
        _validation = new ValidationWindows(corpus.Validation, options.BatchSize, shape.Context, options.EvalBatches);
        _batch = new TokenBatch(options.BatchSize, shape.Context);
        _schedule = options.Schedule();
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

    public ParameterLayout Layout { get; }

    public CudaTrainingModel Model { get; }

    /// <summary>The GPU's name, e.g. "NVIDIA H100 80GB HBM3".</summary>
    public string DeviceName => Model.Context.Name;

    public string OutputDirectory { get; }

    public int Step { get; private set; }

    public string CheckpointPath => Path.Combine(OutputDirectory, Trainer.CheckpointFileName);

    public void Resume()
    {
        var checkpoint = TrainingCheckpoint.Load(CheckpointPath, Layout);
        Model.UploadParameters(checkpoint.Parameters);
        _adam.FirstMoment.Upload(checkpoint.FirstMoment);
        _adam.SecondMoment.Upload(checkpoint.SecondMoment);
        Step = checkpoint.Step;
        _adam.Step = checkpoint.Step;
        _sampler.State = checkpoint.SamplerState;
        string logPath = Path.Combine(OutputDirectory, Trainer.LossLogFileName);
        var rows = File.Exists(logPath) ? LossLog.Read(logPath) : [];
        _elapsedBefore = rows.Where(r => r.Step <= Step).Select(r => r.ElapsedSeconds).DefaultIfEmpty(0).Max();
    }

    public void Run(IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(OutputDirectory);
        string logPath = Path.Combine(OutputDirectory, Trainer.LossLogFileName);
        using var log = Step > 0 && File.Exists(logPath) ? LossLog.Resume(logPath, Step) : LossLog.Create(logPath);
        var clock = Stopwatch.StartNew();
        int tokensPerStep = _options.BatchSize * _options.Shape.Context;
        while (Step < _options.Steps)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                SaveCheckpoint();
                cancellationToken.ThrowIfCancellationRequested();
            }

            long started = Stopwatch.GetTimestamp();
            _sampler.Next(_batch);
            Model.ZeroGradients();
            double loss = Model.ForwardBackward(_batch.Inputs, _batch.Targets, _options.BatchSize, CounterHash.Derive(_options.Seed, 1000 + (ulong)Step));
            double norm = Model.ClipGradients(_options.GradientClip);
            if (!double.IsFinite(loss) || !double.IsFinite(norm))
            {
                string kept = File.Exists(CheckpointPath) ? $"the last good checkpoint is {CheckpointPath}" : "no checkpoint was written yet";
                throw new TrainingDivergedException($"step {Step + 1}: the loss is {loss} and the gradient norm {norm}; training stopped ({kept}). Try a lower --lr.");
            }

            double rate = _schedule.LearningRate(Step);
            _adam.Update(rate, _schedule.WeightDecayAt(Step));
            Step++;

            double? validation = Step % _options.EvalInterval == 0 || Step == _options.Steps ? ValidationLoss() : null;
            double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            double elapsed = _elapsedBefore + clock.Elapsed.TotalSeconds;
            log.Append(new LossRecord(Step, (long)Step * tokensPerStep, loss, validation, rate, norm, tokensPerStep / seconds, elapsed));
            progress?.Report(new TrainingProgress(Step, _options.Steps, loss, validation, rate, norm, tokensPerStep / seconds, TimeSpan.FromSeconds(elapsed)));
            if ((_options.CheckpointInterval > 0 && Step % _options.CheckpointInterval == 0) || Step == _options.Steps)
                SaveCheckpoint();
        }
    }

    public double ValidationLoss()
    {
        double total = 0;
        int rows = 0;
        for (int i = 0; i < _validation.BatchCount; i++)
        {
            _validation.Fill(i, _batch);
            int n = _batch.Rows * _options.Shape.Context;
            total += Model.Evaluate(_batch.Inputs.AsSpan(0, n), _batch.Targets.AsSpan(0, n), _batch.Rows) * _batch.Rows;
            rows += _batch.Rows;
        }

        return total / rows;
    }

    public float[] ReadParameters()
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

    private void SaveCheckpoint()
    {
        var firstMoment = new float[Layout.Count];
        var secondMoment = new float[Layout.Count];
        _adam.FirstMoment.Download(firstMoment);
        _adam.SecondMoment.Download(secondMoment);
        new TrainingCheckpoint(Step, _sampler.State, ReadParameters(), firstMoment, secondMoment).Save(CheckpointPath, Layout);
    }
}
