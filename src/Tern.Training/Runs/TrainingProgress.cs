namespace Tern.Training.Runs;

/// <summary>One finished step, for progress displays; <see cref="ValidationLoss"/> is set on evaluation steps.</summary>
public sealed record TrainingProgress(int Step, int Steps, double Loss, double? ValidationLoss, double LearningRate, double GradientNorm, double TokensPerSecond, TimeSpan Elapsed);
