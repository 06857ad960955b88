using System.Diagnostics;
using System.Globalization;
using Tern.Training.Data;
using Tern.Training.Model;
using Tern.Training.Optimization;
using Tern.Training.Randomness;
using Tern.Training.Reporting;

namespace Tern.Training.Runs;

/// <summary>
/// The training loop that the CPU and GPU trainers share: sample a batch, forward and backward, clip, AdamW with the
/// schedule's rate and decay, evaluate on validation windows, log a CSV row, checkpoint; resume from a checkpoint.
/// Deterministic for a seed: the batches, the initialization and the dropout masks come from it. A trainer supplies
/// only the model's side of a step.
/// </summary>
public abstract class TrainingLoop
{
    public const string CheckpointFileName = "checkpoint.safetensors";
    public const string LossLogFileName = "loss.csv";

    private readonly BatchSampler _sampler;
    private readonly ValidationWindows _validation;
    private readonly TokenBatch _batch;
    private readonly LearningRateSchedule _schedule;
    private double _elapsedBefore;

    protected TrainingLoop(TrainingOptions options, TextCorpus corpus, string outputDirectory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(corpus);
        options.Validate();
        Options = options;
        OutputDirectory = outputDirectory;
        var shape = options.Shape;
        Layout = new ParameterLayout(shape);
        _sampler = new BatchSampler(corpus.Train, options.BatchSize, shape.Context, CounterHash.Derive(options.Seed, 1));
        _validation = new ValidationWindows(corpus.Validation, options.BatchSize, shape.Context, options.EvalBatches);
        _batch = new TokenBatch(options.BatchSize, shape.Context);
        _schedule = options.Schedule();
    }

    public ParameterLayout Layout { get; }

    public string OutputDirectory { get; }

    /// <summary>Steps already taken (nonzero after <see cref="Resume"/>).</summary>
    public int Step { get; private set; }

    public string CheckpointPath => Path.Combine(OutputDirectory, CheckpointFileName);

    protected TrainingOptions Options { get; }

    /// <summary>Continues from the checkpoint in the output folder: weights, moments, step and batch sequence. Refuses a
    /// checkpoint written with other dropout probabilities.</summary>
    public void Resume()
    {
        var checkpoint = TrainingCheckpoint.Load(CheckpointPath, Layout);
        RequireSame("--dropout", checkpoint.Dropout, Options.Dropout);
        RequireSame("--attention-dropout", checkpoint.AttentionDropout ?? 0, Options.AttentionDropout);
        Restore(checkpoint);
        Step = checkpoint.Step;
        _sampler.State = checkpoint.SamplerState;
        string logPath = Path.Combine(OutputDirectory, LossLogFileName);
        var rows = File.Exists(logPath) ? LossLog.Read(logPath) : [];
        _elapsedBefore = rows.Where(r => r.Step <= Step).Select(r => r.ElapsedSeconds).DefaultIfEmpty(0).Max();
    }

    /// <summary>Trains to the last step. Cancelling writes a checkpoint of the steps done, then throws.</summary>
    public void Run(IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(OutputDirectory);
        string logPath = Path.Combine(OutputDirectory, LossLogFileName);
        using var log = Step > 0 && File.Exists(logPath) ? LossLog.Resume(logPath, Step) : LossLog.Create(logPath);
        var clock = Stopwatch.StartNew();
        int tokensPerStep = Options.BatchSize * Options.Shape.Context;
        while (Step < Options.Steps)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                SaveCheckpoint();
                cancellationToken.ThrowIfCancellationRequested();
            }

            long started = Stopwatch.GetTimestamp();
            _sampler.Next(_batch);
            double loss = ForwardBackward(_batch, CounterHash.Derive(Options.Seed, 1000 + (ulong)Step));
            double norm = ClipGradients(Options.GradientClip);
            if (!double.IsFinite(loss) || !double.IsFinite(norm))
            {
                string kept = File.Exists(CheckpointPath) ? $"the last good checkpoint is {CheckpointPath}" : "no checkpoint was written yet";
                throw new TrainingDivergedException($"step {Step + 1}: the loss is {loss} and the gradient norm {norm}; training stopped ({kept}). Try a lower --lr.");
            }

            double rate = _schedule.LearningRate(Step);
            Update(rate, _schedule.WeightDecayAt(Step));
            Step++;

            double? validation = Step % Options.EvalInterval == 0 || Step == Options.Steps ? ValidationLoss() : null;
            double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            double elapsed = _elapsedBefore + clock.Elapsed.TotalSeconds;
            log.Append(new LossRecord(Step, (long)Step * tokensPerStep, loss, validation, rate, norm, tokensPerStep / seconds, elapsed));
            progress?.Report(new TrainingProgress(Step, Options.Steps, loss, validation, rate, norm, tokensPerStep / seconds, TimeSpan.FromSeconds(elapsed)));
            if ((Options.CheckpointInterval > 0 && Step % Options.CheckpointInterval == 0) || Step == Options.Steps)
                SaveCheckpoint();
        }
    }

    /// <summary>The mean loss over the validation windows, weighted by rows.</summary>
    public double ValidationLoss()
    {
        double total = 0;
        int rows = 0;
        for (int i = 0; i < _validation.BatchCount; i++)
        {
            _validation.Fill(i, _batch);
            int n = _batch.Rows * Options.Shape.Context;
            total += Evaluate(_batch.Inputs.AsSpan(0, n), _batch.Targets.AsSpan(0, n), _batch.Rows) * _batch.Rows;
            rows += _batch.Rows;
        }

        return total / rows;
    }

    /// <summary>The current parameters in <see cref="Layout"/>'s order (for export); a copy the caller may keep.</summary>
    public abstract float[] ReadParameters();

    /// <summary>Zeroes the gradients, then runs the full batch forward and backward; returns the mean loss.</summary>
    protected abstract double ForwardBackward(TokenBatch batch, ulong dropoutKey);

    /// <summary>Clips the gradients to a global norm (0: no clipping); returns the norm before clipping.</summary>
    protected abstract double ClipGradients(double maxNorm);

    /// <summary>One AdamW update with this rate and weight decay.</summary>
    protected abstract void Update(double learningRate, double weightDecay);

    /// <summary>The mean loss of <paramref name="rows"/> sequences, without dropout or gradients.</summary>
    protected abstract double Evaluate(ReadOnlySpan<int> inputs, ReadOnlySpan<int> targets, int rows);

    /// <summary>Takes the checkpoint's parameters, moments and optimizer step.</summary>
    protected abstract void Restore(TrainingCheckpoint checkpoint);

    /// <summary>Both AdamW moments in <see cref="Layout"/>'s order.</summary>
    protected abstract (float[] First, float[] Second) ReadMoments();

    private void SaveCheckpoint()
    {
        var (first, second) = ReadMoments();
        new TrainingCheckpoint(Step, _sampler.State, ReadParameters(), first, second)
        {
            Dropout = Options.Dropout,
            AttentionDropout = Options.AttentionDropout,
        }.Save(CheckpointPath, Layout);
    }

    private void RequireSame(string flag, double? saved, double current)
    {
        if (saved is { } value && value != current)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{CheckpointPath} was written with {flag} {value}; this run has {current} (resume with the flags of the run that wrote it)"));
        }
    }
}
