namespace Tern.Training.Reporting;

/// <summary>The loss curve of one run under the name a plot's legend gives it ("BitNet b1.58", "full precision").</summary>
public sealed record LossRun(string Label, IReadOnlyList<LossRecord> Records)
{
    /// <summary>The rows of a <see cref="LossLog"/> CSV.</summary>
    public static LossRun FromCsv(string label, string path) => new(label, LossLog.Read(path));
}
