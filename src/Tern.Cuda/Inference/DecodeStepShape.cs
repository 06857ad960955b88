using System.Runtime.InteropServices;

namespace Tern.Cuda.Inference;

/// <summary>infer_step.cu's StepShape, passed by value: the model's widths, the plan's rows per block and regions, the norms' ε, the statistics' chunks (84 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct DecodeStepShape
{
    public int Dim, QueryLength, KeyValueLength, FeedForward, Heads, KvHeads, HeadDim, Neox, Silu;
    public int DimGroups, QueryGroups, FfnGroups;
    public int QkvRows, OutputRows, FfnRows, DownRows;
    public int RegionABytes, RegionBBytes;
    public float Epsilon;
    public int StatisticsChunks, AttentionStatistics;
}
