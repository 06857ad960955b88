using BenchmarkDotNet.Configs;

namespace Tern.Benchmarks;

/// <summary>The default columns plus MB/s.</summary>
internal sealed class CodecConfig : ManualConfig
{
    public CodecConfig() => AddColumn(new ThroughputColumn());
}
