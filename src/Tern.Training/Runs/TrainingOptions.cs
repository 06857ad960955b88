using Tern.Training.Model;
using Tern.Training.Optimization;

namespace Tern.Training.Runs;

/// <summary>Everything that decides a training run besides the data (docs/training.md has the defaults).</summary>
public sealed record TrainingOptions
{
    public required ModelShape Shape { get; init; }
    public int BatchSize { get; init; } = 16;
    public int Steps { get; init; } = 1000;

    /// <summary>Peak learning rate; null takes the recipe's (1.5e-3 QAT, 1e-3 full precision).</summary>
    public double? LearningRate { get; init; }

    /// <summary>Warmup steps; null takes min(100, steps / 10).</summary>
    public int? WarmupSteps { get; init; }

    public double WeightDecay { get; init; } = 0.1;

    /// <summary>Null takes the recipe's: two-stage for QAT, cosine for full precision.</summary>
    public bool? TwoStageSchedule { get; init; }

    public double GradientClip { get; init; } = 1.0;
    public double Dropout { get; init; }
    public ulong Seed { get; init; } = 1337;

    /// <summary>Evaluate the validation loss every this many steps (and at the last).</summary>
    public int EvalInterval { get; init; } = 100;

    /// <summary>Batches of validation windows per evaluation.</summary>
    public int EvalBatches { get; init; } = 8;

    /// <summary>Write a checkpoint every this many steps (and at the last); 0 writes only at the end.</summary>
    public int CheckpointInterval { get; init; } = 500;

    public double PeakLearningRate => LearningRate ?? (Shape.Quantized ? 1.5e-3 : 1e-3);

    public LearningRateSchedule Schedule()
    {
        int warmup = WarmupSteps ?? Math.Min(100, Steps / 10);
        return TwoStageSchedule ?? Shape.Quantized
            ? LearningRateSchedule.BitNet(PeakLearningRate, Steps, warmup, WeightDecay)
            : LearningRateSchedule.Cosine(PeakLearningRate, Steps, warmup, WeightDecay);
    }

    public void Validate()
    {
        Shape.Validate();
        if (BatchSize <= 0 || Steps <= 0)
            throw new ArgumentException($"--batch ({BatchSize}) and --steps ({Steps}) must be positive");
        if (!(PeakLearningRate > 0) || WeightDecay < 0 || GradientClip < 0)
            throw new ArgumentException("--lr must be positive, --weight-decay and --grad-clip not negative");
        if (Dropout is < 0 or >= 1)
            throw new ArgumentException($"--dropout {Dropout} must be in [0, 1)");
        if (EvalInterval <= 0 || EvalBatches <= 0 || CheckpointInterval < 0)
            throw new ArgumentException("--eval-interval and --eval-batches must be positive, --checkpoint-interval not negative");
    }
}
