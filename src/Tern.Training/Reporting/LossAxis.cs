namespace Tern.Training.Reporting;

/// <summary>What a loss plot's horizontal axis counts. Tokens compare runs whose batches differ in size.</summary>
public enum LossAxis
{
    Step,
    Tokens,
}
