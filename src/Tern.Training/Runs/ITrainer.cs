using Tern.Training.Model;

namespace Tern.Training.Runs;

/// <summary>
/// A training run as `tern train` drives it, on the CPU (<see cref="Trainer"/>) or on a GPU
/// (<see cref="Cuda.CudaTrainer"/>): the same batches, schedule, loss log and checkpoint format, so a run started on
/// one can be resumed on the other.
/// </summary>
public interface ITrainer
{
    ParameterLayout Layout { get; }

    string OutputDirectory { get; }

    /// <summary>Steps already taken (nonzero after <see cref="Resume"/>).</summary>
    int Step { get; }

    string CheckpointPath { get; }

    /// <summary>Continues from the checkpoint in the output folder: weights, moments, step and batch sequence.</summary>
    void Resume();

    /// <summary>Trains to the last step. Cancelling writes a checkpoint of the steps done, then throws.</summary>
    void Run(IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>The mean loss over the validation windows, weighted by rows.</summary>
    double ValidationLoss();

    /// <summary>The current parameters in <see cref="Layout"/>'s order (for export); a copy the caller may keep.</summary>
    float[] ReadParameters();
}
