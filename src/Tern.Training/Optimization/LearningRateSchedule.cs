namespace Tern.Training.Optimization;

/// <summary>
/// The learning rate and weight decay for each step (docs/training.md). BitNet b1.58's two stages (Microsoft's
/// "Training Tips, Code and FAQ"): linear decay from the peak to half of it at the midpoint, a sharp drop there,
/// then linear decay to the end, with weight decay only in the first stage. The full-precision baseline: cosine
/// decay to a tenth of the peak (nanoGPT). Both after a linear warmup.
/// </summary>
public sealed record LearningRateSchedule
{
    public required double PeakLearningRate { get; init; }
    public required long Steps { get; init; }
    public long WarmupSteps { get; init; }
    public bool TwoStage { get; init; } = true;
    public double WeightDecay { get; init; } = 0.1;

    /// <summary>Two-stage: where the drop happens, as a fraction of the steps.</summary>
    public double DropAt { get; init; } = 0.5;

    /// <summary>Two-stage: the rate just before the drop, and just after it, as fractions of the peak.</summary>
    public double BeforeDrop { get; init; } = 0.5;
    public double AfterDrop { get; init; } = 0.2;

    /// <summary>The last step's rate as a fraction of the peak (two-stage: 0.02; cosine: 0.1).</summary>
    public double FinalRatio { get; init; } = 0.02;

    public static LearningRateSchedule BitNet(double peak, long steps, long warmup, double weightDecay = 0.1) =>
        new() { PeakLearningRate = peak, Steps = steps, WarmupSteps = warmup, WeightDecay = weightDecay };

    public static LearningRateSchedule Cosine(double peak, long steps, long warmup, double weightDecay = 0.1) =>
        new() { PeakLearningRate = peak, Steps = steps, WarmupSteps = warmup, TwoStage = false, WeightDecay = weightDecay, FinalRatio = 0.1 };

    /// <summary>The rate for step <paramref name="step"/> (0-based).</summary>
    public double LearningRate(long step)
    {
        if (step < WarmupSteps)
            return PeakLearningRate * (step + 1) / WarmupSteps;
        double peak = PeakLearningRate;
        if (!TwoStage)
        {
            double progress = Progress(step, WarmupSteps, Steps);
            double final = peak * FinalRatio;
            return final + (0.5 * (peak - final) * (1 + Math.Cos(Math.PI * progress)));
        }

        long drop = DropStep;
        if (step < drop)
            return peak + ((peak * BeforeDrop) - peak) * Progress(step, WarmupSteps, drop);
        return (peak * AfterDrop) + ((peak * FinalRatio) - (peak * AfterDrop)) * Progress(step, drop, Steps);
    }

    public double WeightDecayAt(long step) => TwoStage && step >= DropStep ? 0 : WeightDecay;

    private long DropStep => Math.Max(WarmupSteps, (long)Math.Round(Steps * DropAt));

    private static double Progress(long step, long start, long end) =>
        end - 1 <= start ? 1 : Math.Clamp((double)(step - start) / (end - 1 - start), 0, 1);
}
