using System.Diagnostics;
using Tern.Runtime;
using Tern.Training.Data;
using Tern.Training.Model;
using Tern.Training.Optimization;
using Tern.Training.Randomness;
using Tern.Training.Reporting;

namespace Tern.Training.Runs;

/// <summary>
/// The training loop on the CPU: sample a batch, forward and backward, clip, AdamW with the schedule's rate and
/// decay, evaluate on validation windows, log a CSV row, checkpoint. Deterministic for a seed: the batches, the
/// initialization and the dropout masks come from it, and no sum depends on the thread count.
/// </summary>
public sealed class Trainer : ITrainer
{
    public const string CheckpointFileName = "checkpoint.safetensors";
    public const string LossLogFileName = "loss.csv";

    private readonly TrainingOptions _options;
    private readonly WorkerPool? _pool;
    private readonly BatchSampler _sampler;
    private readonly ValidationWindows _validation;
    private readonly TokenBatch _batch;
    private readonly AdamW<float> _adam;
    private readonly LearningRateSchedule _schedule;
    private double _elapsedBefore;

    public Trainer(TrainingOptions options, TextCorpus corpus, string outputDirectory, WorkerPool? pool)
    {
        options.Validate();
        _options = options;
        _pool = pool;
        OutputDirectory = outputDirectory;
        var shape = options.Shape;
        Layout = new ParameterLayout(shape);
        Model = new TrainingModel<float>(Layout, options.BatchSize, pool) { DropoutProbability = options.Dropout };
        ParameterInitializer.Initialize(Layout, Model.Parameters, options.Seed);
        _sampler = new BatchSampler(corpus.Train, options.BatchSize, shape.Context, CounterHash.Derive(options.Seed, 1));
        _validation = new ValidationWindows(corpus.Validation, options.BatchSize, shape.Context, options.EvalBatches);
        _batch = new TokenBatch(options.BatchSize, shape.Context);
        _adam = new AdamW<float>(Layout) { Beta1 = options.Beta1, Beta2 = options.Beta2, Epsilon = options.AdamEpsilon };
        _schedule = options.Schedule();
    }

    public ParameterLayout Layout { get; }

    public TrainingModel<float> Model { get; }

    public string OutputDirectory { get; }

    /// <summary>Steps already taken (nonzero after <see cref="Resume"/>).</summary>
    public int Step { get; private set; }

    public string CheckpointPath => Path.Combine(OutputDirectory, CheckpointFileName);

    /// <summary>Continues from the checkpoint in the output folder: weights, moments, step and batch sequence.</summary>
    public void Resume()
    {
        var checkpoint = TrainingCheckpoint.Load(CheckpointPath, Layout);
        checkpoint.Parameters.CopyTo(Model.Parameters, 0);
        checkpoint.FirstMoment.CopyTo(_adam.FirstMoment, 0);
        checkpoint.SecondMoment.CopyTo(_adam.SecondMoment, 0);
        Step = checkpoint.Step;
        _adam.Step = checkpoint.Step;
        _sampler.State = checkpoint.SamplerState;
        var rows = File.Exists(Path.Combine(OutputDirectory, LossLogFileName)) ? LossLog.Read(Path.Combine(OutputDirectory, LossLogFileName)) : [];
        _elapsedBefore = rows.Where(r => r.Step <= Step).Select(r => r.ElapsedSeconds).DefaultIfEmpty(0).Max();
    }

    /// <summary>Trains to the last step. Cancelling writes a checkpoint of the steps done, then throws.</summary>
    public void Run(IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(OutputDirectory);
        string logPath = Path.Combine(OutputDirectory, LossLogFileName);
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
            Array.Clear(Model.Gradients);
            double loss = Model.ForwardBackward(_batch.Inputs, _batch.Targets, _options.BatchSize, CounterHash.Derive(_options.Seed, 1000 + (ulong)Step));
            double norm = GradientClipping.ClipToNorm(Model.Gradients, _options.GradientClip);
            if (!double.IsFinite(loss) || !double.IsFinite(norm))
            {
                string kept = File.Exists(CheckpointPath) ? $"the last good checkpoint is {CheckpointPath}" : "no checkpoint was written yet";
                throw new TrainingDivergedException($"step {Step + 1}: the loss is {loss} and the gradient norm {norm}; training stopped ({kept}). Try a lower --lr.");
            }

            double rate = _schedule.LearningRate(Step);
            _adam.Update(_pool, Model.Parameters, Model.Gradients, rate, _schedule.WeightDecayAt(Step));
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

    public float[] ReadParameters() => (float[])Model.Parameters.Clone();

    /// <summary>The mean loss over the validation windows, weighted by rows.</summary>
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

    private void SaveCheckpoint() =>
        new TrainingCheckpoint(Step, _sampler.State, Model.Parameters, _adam.FirstMoment, _adam.SecondMoment).Save(CheckpointPath, Layout);
}
