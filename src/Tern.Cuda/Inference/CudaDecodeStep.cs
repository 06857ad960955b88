using System.Runtime.InteropServices;
using Tern.Models;

namespace Tern.Cuda.Inference;

/// <summary>
/// A session's decoding step as one persistent kernel (decode_step): the table of every device block's pointers
/// (codes, norms' weights, this session's KV cache) and scales in device memory, the two sets of chunk statistics its
/// phases hand each other, and the cooperative launch that a step's CUDA graph captures in place of five launches a
/// block.
/// </summary>
internal sealed class CudaDecodeStep : IDisposable
{
    /// <summary>StepLayer in infer_step.cu: 13 pointers, then 8 floats (the seven scales and padding).</summary>
    public const int TableWordsPerLayer = 17;

    private readonly DeviceBuffer<ulong> _table;
    private readonly DeviceBuffer<float> _statistics;
    private readonly DecodeStepShape _shape;
    private readonly DecodeStepPlan _plan;
    private readonly int _layers;

    public CudaDecodeStep(CudaContext context, ModelConfig config, DecodeStepPlan plan, IReadOnlyList<DeviceLayer> layers,
        IReadOnlyList<DeviceBuffer<float>> keys, IReadOnlyList<DeviceBuffer<float>> values)
    {
        _plan = plan;
        _layers = layers.Count;
        var words = new ulong[layers.Count * TableWordsPerLayer];
        for (int l = 0; l < layers.Count; l++)
            Describe(layers[l], keys[l], values[l], words.AsSpan(l * TableWordsPerLayer, TableWordsPerLayer));
        _table = new DeviceBuffer<ulong>(context, Math.Max(1, words.Length));
        _table.Upload(words);
        var query = (DeviceTernaryMatrix)layers[0].Query;
        var output = (DeviceTernaryMatrix)layers[0].Output;
        var down = (DeviceTernaryMatrix)layers[0].Down;
        var dimensions = new DecodeStepDimensions(config.EmbeddingLength, config.QueryLength, config.KeyValueLength, config.FeedForwardLength, config.HeadDim);
        int chunks = DecodeStepPlan.StatisticsChunks(dimensions);
        _statistics = new DeviceBuffer<float>(context, 4 * chunks);
        _shape = new DecodeStepShape
        {
            Dim = config.EmbeddingLength,
            QueryLength = config.QueryLength,
            KeyValueLength = config.KeyValueLength,
            FeedForward = config.FeedForwardLength,
            Heads = config.HeadCount,
            KvHeads = config.HeadCountKv,
            HeadDim = config.HeadDim,
            Neox = config.Rope == RopeStyle.Neox ? 1 : 0,
            Silu = config.Activation == FfnActivation.Silu ? 1 : 0,
            DimGroups = query.Groups,
            QueryGroups = output.Groups,
            FfnGroups = down.Groups,
            QkvRows = plan.QkvRows,
            OutputRows = plan.OutputRows,
            FfnRows = plan.FfnRows,
            DownRows = plan.DownRows,
            RegionABytes = plan.RegionABytes,
            RegionBBytes = plan.RegionBBytes,
            Epsilon = config.RmsNormEpsilon,
            StatisticsChunks = chunks,
            AttentionStatistics = DecodeStepPlan.AttentionWritesStatistics(dimensions) ? 1 : 0,
        };
    }

    /// <summary>
    /// Writes one layer's StepLayer: the codes of Q, K, V, output, gate, up and down; the attention norm, its sub-norm,
    /// the FFN norm and its sub-norm (0: none); the key and value caches; then the seven scales as floats.
    /// </summary>
    internal static void Describe(DeviceLayer layer, DeviceBuffer<float> keys, DeviceBuffer<float> values, Span<ulong> words)
    {
        var matrices = layer.Matrices.Cast<DeviceTernaryMatrix>().ToArray();
        for (int i = 0; i < matrices.Length; i++)
            words[i] = matrices[i].Codes.Address;
        words[7] = layer.AttentionNorm.Pointer.Address;
        words[8] = layer.AttentionSubNorm?.Pointer.Address ?? 0;
        words[9] = layer.FfnNorm.Pointer.Address;
        words[10] = layer.FfnSubNorm?.Pointer.Address ?? 0;
        words[11] = keys.Pointer.Address;
        words[12] = values.Pointer.Address;
        var scales = MemoryMarshal.Cast<ulong, float>(words[13..]);
        scales.Clear();
        for (int i = 0; i < matrices.Length; i++)
            scales[i] = matrices[i].UniformScale;
    }

    /// <summary>Queues the step's blocks: the hidden state and position (and the barrier's zeroed counter) are in the workspace.</summary>
    public void Record(InferenceWorkspace ws, DevicePointer cos, DevicePointer sin)
    {
        var arguments = new KernelArguments();
        arguments.Add(_table.Pointer);
        arguments.Add(_layers);
        arguments.Add(_shape);
        arguments.Add(ws.Hidden.Pointer);
        arguments.Add(ws.Queries.Pointer);
        arguments.Add(ws.Keys.Pointer);
        arguments.Add(ws.Values.Pointer);
        arguments.Add(ws.AttentionOutput.Pointer);
        arguments.Add(ws.Activated.Pointer);
        arguments.Add(cos);
        arguments.Add(sin);
        arguments.Add(ws.Step.Pointer);
        arguments.Add(_statistics.Pointer);
        ws.Kernels.DecodeStep.LaunchCooperative(_plan.Blocks, 256, _plan.SharedBytes, ws.Stream, ref arguments);
    }

    public void Dispose()
    {
        _table.Dispose();
        _statistics.Dispose();
    }
}
