namespace Tern.Benchmarks;

/// <summary>Bytes one invocation of the benchmark processes, for the MB/s column (see <see cref="ThroughputColumn"/>).</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class ThroughputAttribute(long bytes) : Attribute
{
    public long Bytes { get; } = bytes;
}
