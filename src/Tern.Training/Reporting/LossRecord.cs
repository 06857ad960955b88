namespace Tern.Training.Reporting;

/// <summary>One row of the loss log: the state of training after <see cref="Step"/> optimizer steps.</summary>
/// <param name="Step">Optimizer steps done (1 after the first).</param>
/// <param name="Tokens">Training tokens seen so far (steps × batch × context, with gradient accumulation counted).</param>
/// <param name="TrainLoss">Mean cross-entropy of this step's batch, in nats.</param>
/// <param name="ValidationLoss">Mean cross-entropy over the validation windows, when they were evaluated at this step.</param>
/// <param name="LearningRate">The learning rate this step used.</param>
/// <param name="GradientNorm">The global L2 norm of the gradients before clipping.</param>
/// <param name="TokensPerSecond">Training throughput of this step.</param>
/// <param name="ElapsedSeconds">Wall-clock time since the run started, resumed runs included.</param>
public sealed record LossRecord(
    int Step,
    long Tokens,
    double TrainLoss,
    double? ValidationLoss,
    double LearningRate,
    double GradientNorm,
    double TokensPerSecond,
    double ElapsedSeconds);
