namespace Tern.Training.Runs;

/// <summary>The loss or the gradient stopped being a number; the last checkpoint on disk is the last good state.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
