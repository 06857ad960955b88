using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Tern.Benchmarks;

/// <summary>
/// MB/s (10⁶ bytes) from a method's <see cref="ThroughputAttribute"/> and the measured mean, so codecs that
/// work on different amounts of data compare at a glance.
/// </summary>
internal sealed class ThroughputColumn : IColumn
{
    public string Id => nameof(ThroughputColumn);
    public string ColumnName => "MB/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Unpacked bytes per second, 10⁶ (float32 in or out for float codecs, one sbyte per weight for ternary ones)";

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var bytes = benchmarkCase.Descriptor.WorkloadMethod.GetCustomAttribute<ThroughputAttribute>()?.Bytes;
        var meanNs = summary[benchmarkCase]?.ResultStatistics?.Mean;
        if (bytes is not { } b || meanNs is not > 0)
            return "-";
        return (b / (meanNs.Value * 1e-9) / 1e6).ToString("N0", CultureInfo.InvariantCulture);
    }
}
