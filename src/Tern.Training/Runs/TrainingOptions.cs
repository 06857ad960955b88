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

    /// <summary>Two-stage schedule: where the drop happens (fraction of the steps), the rate just before and just
    /// after it, and the last step's rate, each a fraction of the peak; null keeps the schedule's defaults.</summary>
    public double? DropAt { get; init; }
    public double? BeforeDrop { get; init; }
    public double? AfterDrop { get; init; }
    public double? FinalRatio { get; init; }

    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.95;
    public double AdamEpsilon { get; init; } = 1e-8;

    public double GradientClip { get; init; } = 1.0;
    public double Dropout { get; init; }

    /// <summary>Dropout probability of the attention weights (after the softmax, before the values); 0 is off.</summary>
    public double AttentionDropout { get; init; }
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
        var schedule = TwoStageSchedule ?? Shape.Quantized
            ? LearningRateSchedule.BitNet(PeakLearningRate, Steps, warmup, WeightDecay)
            : LearningRateSchedule.Cosine(PeakLearningRate, Steps, warmup, WeightDecay);
        return schedule with
        {
            DropAt = DropAt ?? schedule.DropAt,
            BeforeDrop = BeforeDrop ?? schedule.BeforeDrop,
            AfterDrop = AfterDrop ?? schedule.AfterDrop,
            FinalRatio = FinalRatio ?? schedule.FinalRatio,
        };
    }

    public void Validate()
    {
        Shape.Validate();
        if (BatchSize <= 0 || Steps <= 0)
            throw new ArgumentException($"--batch ({BatchSize}) and --steps ({Steps}) must be positive");
        if (!(PeakLearningRate > 0) || WeightDecay < 0 || GradientClip < 0)
            throw new ArgumentException("--lr must be positive, --weight-decay and --grad-clip not negative");
        if (Beta1 is < 0 or >= 1 || Beta2 is < 0 or >= 1 || !(AdamEpsilon > 0))
            throw new ArgumentException("--beta1 and --beta2 must be in [0, 1) and --adam-eps positive");
        foreach (double? ratio in new[] { DropAt, BeforeDrop, AfterDrop, FinalRatio })
        {
            if (ratio is < 0 or > 1)
                throw new ArgumentException($"the schedule's fractions (--lr-drop-at, --lr-before-drop, --lr-after-drop, --lr-final) must be in [0, 1]; got {ratio}");
        }

        if (Dropout is < 0 or >= 1)
            throw new ArgumentException($"--dropout {Dropout} must be in [0, 1)");
        if (AttentionDropout is < 0 or >= 1 || double.IsNaN(AttentionDropout))
            throw new ArgumentException($"--attention-dropout {AttentionDropout} must be in [0, 1)");
        if (EvalInterval <= 0 || EvalBatches <= 0 || CheckpointInterval < 0)
            throw new ArgumentException("--eval-interval and --eval-batches must be positive, --checkpoint-interval not negative");
    }
}
