using System.Globalization;
using Tern.Gguf;
using Tern.Inference.Placement;
using Tern.Models;
using Tern.Quantization;

namespace Tern.Cuda.Inference;

/// <summary>
/// The blocks (and the head) a <see cref="ModelPlacement"/> puts on the GPU, uploaded once and computed by the kernels
/// of Inference/Kernels in the order of the CPU engine's Transformer: the attention norm quantizes once for Q, K and
/// V; RoPE writes keys and values into the session's cache; the sub-norms quantize for the output and down
/// projections, whose products add to the residual stream in place. Tensors an override keeps on the host are
/// computed there (<see cref="HostComputedMatrix"/>); host blocks' tensors sent to the GPU are replaced in
/// <see cref="HostWeights"/> by <see cref="DeviceComputedMatrix"/>.
/// </summary>
internal sealed class CudaModelOffload : IModelOffload
{
    /// <summary>Tokens of a prompt the device takes at once when it computes from the first block.</summary>
    public const int PromptChunkTokens = 512;

    private readonly OwnedResources _owned = new();
    private readonly DeviceLayer[] _layers;
    private readonly DeviceBuffer<float>? _outputNorm;
    private readonly DeviceMatrix? _head;
    private readonly DeviceBuffer<float> _cos, _sin;
    private readonly bool[] _fused = [];
    private readonly int _attentionStagingLimit;

    public CudaModelOffload(CudaContext context, CudaInferenceKernels kernels, GgufFile file, ModelConfig config, ModelWeights weights, ModelPlacement placement,
        bool persistentDecode = true, int attentionStagingLimit = 0)
    {
        Config = config;
        _attentionStagingLimit = attentionStagingLimit;
        Context = context;
        int blocks = config.BlockCount;
        FirstLayer = placement.FirstGpuLayer(blocks);
        var lastLayerDevice = FirstLayer < blocks ? ComputeDevice.Cuda : ComputeDevice.Cpu;
        bool untied = !config.Architecture.StartsWith("bitnet", StringComparison.Ordinal) && file.TryGetTensor("output.weight", out _);
        string headName = untied ? "output.weight" : "token_embd.weight";
        ComputesHead = placement.DeviceOf(headName, lastLayerDevice) == ComputeDevice.Cuda;
        ChunkTokens = FirstLayer == 0 ? PromptChunkTokens : Transformer.ChunkTokens;
        try
        {
            _layers = new DeviceLayer[blocks - FirstLayer];
            for (int l = FirstLayer; l < blocks; l++)
                _layers[l - FirstLayer] = _owned.Add(UploadLayer(context, file, config, weights.Layers[l], l, placement));
            if (ComputesHead)
            {
                _outputNorm = _owned.Add(Vector(context, weights.OutputNorm));
                var stored = file.GetTensor(headName);
                _head = _owned.Add<DeviceMatrix>(weights.Output is Q8_0WeightMatrix q8
                    ? DeviceQ8Matrix.Upload(context, q8)
                    : DeviceFloatMatrix.Upload(context, file, ComputesStoredValues(weights.Output, stored) ? stored : null, weights.Output));
            }

            (_cos, _sin) = RopeTables(context, config, weights.RopeFactors);
            _owned.Add(_cos);
            _owned.Add(_sin);

            var deviceMatrices = _layers.SelectMany(l => l.Matrices).ToList();
            var hostLayerOverrides = new List<(int Layer, string Field, WeightMatrix Host)>();
            for (int l = 0; l < FirstLayer; l++)
            {
                foreach (var (field, matrix) in Fields(weights.Layers[l]))
                {
                    if (placement.DeviceOf(matrix.Name, ComputeDevice.Cpu) == ComputeDevice.Cuda)
                        hostLayerOverrides.Add((l, field, matrix));
                }
            }

            var sentUp = hostLayerOverrides.Select(o => _owned.Add(Upload(context, file, o.Host))).ToList();
            int widestInput = Math.Max(config.EmbeddingLength, Math.Max(config.QueryLength, config.FeedForwardLength));
            int widestOutput = widestInput;
            long largestTernary = deviceMatrices.Concat(sentUp).OfType<DeviceTernaryMatrix>()
                .Select(m => (long)m.Rows * m.Groups * 64).DefaultIfEmpty(0).Max();
            Workspace = _owned.Add(new InferenceWorkspace(context, kernels, new WorkspaceShape(ChunkTokens, config.EmbeddingLength, config.QueryLength,
                config.KeyValueLength, config.FeedForwardLength, config.VocabSize, widestInput, widestOutput, largestTernary)));

            var layers = weights.Layers.ToArray();
            for (int i = 0; i < hostLayerOverrides.Count; i++)
            {
                var (l, field, _) = hostLayerOverrides[i];
                layers[l] = Replace(layers[l], field, new DeviceComputedMatrix(sentUp[i], Workspace));
            }
            HostWeights = hostLayerOverrides.Count == 0 ? weights : weights.With(layers, weights.Output);
            foreach (var m in HostWeights.Layers.SelectMany(l => new[] { l.Query, l.Key, l.Value, l.Output, l.Gate, l.Up, l.Down }))
                m.Pool ??= weights.Output.Pool;

            Graphable = deviceMatrices.All(m => !m.ComputesOnHost);
            _fused = _layers.Select(CanFuse).ToArray();
            StepPlan = persistentDecode && _layers.Length > 0 && _fused.All(f => f)
                ? DecodeStepPlan.For(new DecodeStepDimensions(config.EmbeddingLength, config.QueryLength, config.KeyValueLength, config.FeedForwardLength, config.HeadDim),
                    context.MultiprocessorCount, kernels.DecodeStepSharedLimit, config.ContextLength)
                : null;
            long weightBytes = deviceMatrices.Concat(sentUp).Sum(m => m.DeviceBytes) + (_head?.DeviceBytes ?? 0);
            int onHost = deviceMatrices.Count(m => m.ComputesOnHost);
            string head = _head is null ? "on the CPU" : _head.Kind + " on the GPU";
            Summary = string.Create(CultureInfo.InvariantCulture,
                $"CUDA {context.Name}: {Describe(FirstLayer, blocks)}, head {head}; {weightBytes / (1024.0 * 1024):F0} MiB of weights on the GPU")
                + (StepPlan is null ? "" : "; decoding in one kernel a step")
                + (onHost > 0 ? $"; {onHost} tensor(s) of GPU blocks on the CPU" : "")
                + (sentUp.Count > 0 ? $"; {sentUp.Count} tensor(s) of CPU blocks on the GPU" : "");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public ModelConfig Config { get; }

    public CudaContext Context { get; }

    public int FirstLayer { get; }

    public bool ComputesHead { get; }

    public ModelWeights HostWeights { get; } = null!;

    public int ChunkTokens { get; }

    public string Summary { get; } = "";

    public InferenceWorkspace Workspace { get; } = null!;

    /// <summary>Whether a decoding step can be one CUDA graph (no product of a device block waits for the host).</summary>
    public bool Graphable { get; }

    internal IReadOnlyList<DeviceLayer> Layers => _layers;

    /// <summary>How decode_step splits a decoding step, or null when the step takes five launches a block (a block not fused, shapes beyond shared memory, or switched off).</summary>
    internal DecodeStepPlan? StepPlan { get; }

    public IOffloadSession CreateSession(int contextLength) => new CudaOffloadSession(this, contextLength);

    /// <summary>Queues the device's blocks for <paramref name="tokens"/> tokens whose hidden states are in the workspace.</summary>
    internal void RecordBlocks(int tokens, IReadOnlyList<DeviceBuffer<float>> keys, IReadOnlyList<DeviceBuffer<float>> values, int contextLength)
    {
        for (int i = 0; i < _layers.Length; i++)
            RecordLayer(i, tokens, keys[i], values[i], contextLength);
    }

    /// <summary>
    /// Queues a decoding step's blocks (one token): five fused launches for each block whose matrices are all ternary
    /// with one scale (<see cref="CanFuse"/>), the general kernels for any other.
    /// </summary>
    internal void RecordDecodeBlocks(IReadOnlyList<DeviceBuffer<float>> keys, IReadOnlyList<DeviceBuffer<float>> values, int contextLength)
    {
        for (int i = 0; i < _layers.Length; i++)
        {
            if (_fused[i])
                RecordFusedLayer(i, keys[i], values[i], contextLength);
            else
                RecordLayer(i, 1, keys[i], values[i], contextLength);
        }
    }

    /// <summary>A session's persistent decoding step over its KV cache, or null when the model has no <see cref="StepPlan"/>.</summary>
    internal CudaDecodeStep? CreateDecodeStep(IReadOnlyList<DeviceBuffer<float>> keys, IReadOnlyList<DeviceBuffer<float>> values) =>
        StepPlan is { } plan ? new CudaDecodeStep(Context, Config, plan, _layers, keys, values) : null;

    /// <summary>Queues a decoding step's blocks as one persistent kernel.</summary>
    internal void RecordDecodeStep(CudaDecodeStep step) => step.Record(Workspace, _cos.Pointer, _sin.Pointer);

    private void RecordLayer(int i, int tokens, DeviceBuffer<float> keyCache, DeviceBuffer<float> valueCache, int contextLength)
    {
        var ws = Workspace;
        var c = Config;
        float epsilon = c.RmsNormEpsilon;
        var layer = _layers[i];
        var attentionInput = ws.NormQuantize(ws.Hidden.Pointer, layer.AttentionNorm.Pointer, c.EmbeddingLength, epsilon, tokens);
        layer.Query.Multiply(ws, attentionInput, tokens, ws.Queries.Pointer, false);
        layer.Key.Multiply(ws, attentionInput, tokens, ws.Keys.Pointer, false);
        layer.Value.Multiply(ws, attentionInput, tokens, ws.Values.Pointer, false);

        var rope = new KernelArguments();
        rope.Add(ws.Queries.Pointer);
        rope.Add(ws.Keys.Pointer);
        rope.Add(ws.Values.Pointer);
        rope.Add(keyCache.Pointer);
        rope.Add(valueCache.Pointer);
        rope.Add(_cos.Pointer);
        rope.Add(_sin.Pointer);
        rope.Add(ws.Step.Pointer);
        rope.Add(c.QueryLength);
        rope.Add(c.KeyValueLength);
        rope.Add(c.HeadDim);
        rope.Add(c.Rope == RopeStyle.Neox ? 1 : 0);
        ws.Kernels.RopeStore.Launch(tokens, 128, 0, ws.Stream, ref rope);

        var attention = new KernelArguments();
        attention.Add(ws.Queries.Pointer);
        attention.Add(keyCache.Pointer);
        attention.Add(valueCache.Pointer);
        attention.Add(ws.Step.Pointer);
        attention.Add(c.HeadCount);
        attention.Add(c.HeadCountKv);
        attention.Add(c.HeadDim);
        if (tokens > 1 && TiledAttentionSharedBytes(contextLength) is int tiledBytes)
        {
            attention.Add(tokens);
            attention.Add(contextLength);
            attention.Add(ws.AttentionOutput.Pointer);
            int groups = (tokens + CudaInferenceKernels.TileQueries - 1) / CudaInferenceKernels.TileQueries;
            ws.Kernels.AttentionTiled.Launch(new Dim3(c.HeadCount, groups), 256, tiledBytes, ws.Stream, ref attention);
        }
        else
        {
            attention.Add(ws.AttentionOutput.Pointer);
            ws.Kernels.Attention.Launch(new Dim3(c.HeadCount, tokens), 256, AttentionSharedBytes(contextLength), ws.Stream, ref attention);
        }

        var outputInput = ws.NormQuantize(ws.AttentionOutput.Pointer, layer.AttentionSubNorm?.Pointer ?? DevicePointer.Null, c.QueryLength, epsilon, tokens);
        layer.Output.Multiply(ws, outputInput, tokens, ws.Hidden.Pointer, true);

        var ffnInput = ws.NormQuantize(ws.Hidden.Pointer, layer.FfnNorm.Pointer, c.EmbeddingLength, epsilon, tokens);
        layer.Gate.Multiply(ws, ffnInput, tokens, ws.Gate.Pointer, false);
        layer.Up.Multiply(ws, ffnInput, tokens, ws.Up.Pointer, false);

        int ffnStride = DeviceTernaryMatrix.PaddedColumns(c.FeedForwardLength);
        var gated = new KernelArguments();
        gated.Add(ws.Gate.Pointer);
        gated.Add(ws.Up.Pointer);
        gated.Add(c.FeedForwardLength);
        gated.Add(c.Activation == FfnActivation.Silu ? 1 : 0);
        gated.Add(layer.FfnSubNorm?.Pointer ?? DevicePointer.Null);
        gated.Add(epsilon);
        gated.Add(ws.Activated.Pointer);
        gated.Add(ws.Quantized.Pointer);
        gated.Add(ffnStride);
        gated.Add(ws.QuantizedScales.Pointer);
        ws.Kernels.GatedNormQuantize.Launch(tokens, 256, CudaInferenceKernels.NormChunkBytes(c.FeedForwardLength), ws.Stream, ref gated);
        layer.Down.Multiply(ws, new MatrixInput(ws.Activated.Pointer, ws.Quantized.Pointer, ws.QuantizedScales.Pointer, ffnStride), tokens,
            ws.Hidden.Pointer, true);
    }

    private void RecordFusedLayer(int i, DeviceBuffer<float> keyCache, DeviceBuffer<float> valueCache, int contextLength)
    {
        var ws = Workspace;
        var c = Config;
        var layer = _layers[i];
        float epsilon = c.RmsNormEpsilon;
        var q = (DeviceTernaryMatrix)layer.Query;
        var k = (DeviceTernaryMatrix)layer.Key;
        var v = (DeviceTernaryMatrix)layer.Value;
        var (qkv, qkvRows) = TernarySegments.Of([q, k, v], [ws.Queries.Pointer, ws.Keys.Pointer, ws.Values.Pointer]);
        RecordDecodeTernary(ws.Hidden.Pointer, layer.AttentionNorm.Pointer, c.EmbeddingLength, epsilon, q.Groups, qkv, qkvRows, accumulate: false);

        var attention = new KernelArguments();
        attention.Add(ws.Queries.Pointer);
        attention.Add(ws.Keys.Pointer);
        attention.Add(ws.Values.Pointer);
        attention.Add(keyCache.Pointer);
        attention.Add(valueCache.Pointer);
        attention.Add(_cos.Pointer);
        attention.Add(_sin.Pointer);
        attention.Add(ws.Step.Pointer);
        attention.Add(c.HeadCount);
        attention.Add(c.HeadCountKv);
        attention.Add(c.HeadDim);
        attention.Add(c.Rope == RopeStyle.Neox ? 1 : 0);
        attention.Add(ws.AttentionOutput.Pointer);
        int capacity = DecodeAttentionCapacity(layer, contextLength);
        attention.Add(DecodeAttentionPlan.ScoreFloats(c.HeadDim, contextLength) - (3 * c.HeadDim));
        attention.Add(capacity);
        ws.Kernels.AttentionDecode.LaunchOverlapped(c.HeadCount, 256, DecodeAttentionSharedBytes(contextLength, capacity), ws.Stream, ref attention);

        var o = (DeviceTernaryMatrix)layer.Output;
        var (output, outputRows) = TernarySegments.Of([o], [ws.Hidden.Pointer]);
        RecordDecodeTernary(ws.AttentionOutput.Pointer, layer.AttentionSubNorm?.Pointer ?? DevicePointer.Null, c.QueryLength, epsilon, o.Groups, output, outputRows, accumulate: true);

        var gate = (DeviceTernaryMatrix)layer.Gate;
        var up = (DeviceTernaryMatrix)layer.Up;
        var grid = Grid(gate.Rows, gate.Groups, 2)!.Value;
        var gated = new KernelArguments();
        gated.Add(ws.Hidden.Pointer);
        gated.Add(layer.FfnNorm.Pointer);
        gated.Add(c.EmbeddingLength);
        gated.Add(epsilon);
        gated.Add(gate.Groups);
        gated.Add(gate.Codes);
        gated.Add(gate.UniformScale);
        gated.Add(up.Codes);
        gated.Add(up.UniformScale);
        gated.Add(gate.Rows);
        gated.Add(grid.RowsPerBlock);
        gated.Add(c.Activation == FfnActivation.Silu ? 1 : 0);
        gated.Add(ws.Activated.Pointer);
        ws.Kernels.DecodeGateUp.LaunchOverlapped(grid.Blocks, DecodeGrid.Threads, grid.SharedBytes, ws.Stream, ref gated);

        var down = (DeviceTernaryMatrix)layer.Down;
        var (downSegments, downRows) = TernarySegments.Of([down], [ws.Hidden.Pointer]);
        RecordDecodeTernary(ws.Activated.Pointer, layer.FfnSubNorm?.Pointer ?? DevicePointer.Null, c.FeedForwardLength, epsilon, down.Groups, downSegments, downRows, accumulate: true);
    }

    private void RecordDecodeTernary(DevicePointer x, DevicePointer weight, int width, float epsilon, int groups, TernarySegments segments, int rows, bool accumulate)
    {
        var ws = Workspace;
        var grid = Grid(rows, groups, 1)!.Value;
        var arguments = new KernelArguments();
        arguments.Add(x);
        arguments.Add(weight);
        arguments.Add(width);
        arguments.Add(epsilon);
        arguments.Add(groups);
        arguments.Add(segments);
        arguments.Add(grid.RowsPerBlock);
        arguments.Add(accumulate ? 1 : 0);
        ws.Kernels.DecodeTernary.LaunchOverlapped(grid.Blocks, DecodeGrid.Threads, grid.SharedBytes, ws.Stream, ref arguments);
    }

    /// <summary>The split of a fused decoding kernel's rows over the GPU's SMs (null: a row does not fit in shared memory).</summary>
    private DecodeGrid? Grid(int rows, int groups, int matrices) =>
        DecodeGrid.For(rows, groups, matrices, Context.MultiprocessorCount, Workspace.Kernels.DecodeSharedLimit);

    /// <summary>attention_decode's shared memory: the query, the new key and value, and the scores of every position.</summary>
    internal int DecodeAttentionSharedBytes(int contextLength, int capacity) =>
        DecodeAttentionPlan.SharedBytes(Config.HeadDim, contextLength, capacity);

    /// <summary>The positions attention_decode stages for this layer (<see cref="DecodeAttentionPlan.Capacity"/>).</summary>
    private int DecodeAttentionCapacity(DeviceLayer layer, int contextLength)
    {
        var query = (DeviceTernaryMatrix)layer.Query;
        var output = (DeviceTernaryMatrix)layer.Output;
        int qkvRows = query.Rows + layer.Key.Rows + layer.Value.Rows;
        int neighbours = Grid(qkvRows, query.Groups, 1)!.Value.SharedBytes + Grid(output.Rows, output.Groups, 1)!.Value.SharedBytes;
        return DecodeAttentionPlan.Capacity(Config.HeadDim, contextLength, _attentionStagingLimit, Context.MaxSharedMemoryPerBlockOptIn, neighbours);
    }

    /// <summary>
    /// Whether a block's decoding step can run fused: all seven matrices ternary with one scale each (the matrices
    /// that read one input then share its padded width by construction), inputs whose widths are whole float4s, and
    /// a row of each within shared memory.
    /// </summary>
    private bool CanFuse(DeviceLayer layer)
    {
        if (!layer.Matrices.All(m => m is DeviceTernaryMatrix { HasUniformScale: true })
            || Config.EmbeddingLength % 4 != 0 || Config.QueryLength % 4 != 0 || Config.FeedForwardLength % 4 != 0)
            return false;
        var query = (DeviceTernaryMatrix)layer.Query;
        var output = (DeviceTernaryMatrix)layer.Output;
        var gate = (DeviceTernaryMatrix)layer.Gate;
        var down = (DeviceTernaryMatrix)layer.Down;
        return Grid(query.Rows, query.Groups, 1) is not null && Grid(output.Rows, output.Groups, 1) is not null
            && Grid(gate.Rows, gate.Groups, 2) is not null && Grid(down.Rows, down.Groups, 1) is not null;
    }

    /// <summary>
    /// attention_tiled's shared memory (the queries of a tile, a tile of keys or values, and every query's scores over
    /// the context), or null when the head's shape or the context is beyond it (then `attention` computes the prompt).
    /// </summary>
    internal int? TiledAttentionSharedBytes(int contextLength)
    {
        int headDim = Config.HeadDim;
        if (headDim % 4 != 0 || headDim > 256)
            return null;
        long bytes = (((CudaInferenceKernels.TileQueries + CudaInferenceKernels.TilePositions) * (long)headDim) + ((long)CudaInferenceKernels.TileQueries * contextLength)) * sizeof(float);
        return bytes <= Context.MaxSharedMemoryPerBlockOptIn - Workspace.Kernels.AttentionTiled.StaticSharedBytes ? (int)bytes : null;
    }

    /// <summary>The attention kernel's shared memory: the query and the scores of every position of the context.</summary>
    internal int AttentionSharedBytes(int contextLength) => (Config.HeadDim + contextLength) * sizeof(float);

    /// <summary>Queues the output norm and the head for tokens [first, first + count) (at most eight) into the workspace's logits.</summary>
    internal void RecordHead(int first, int count)
    {
        var ws = Workspace;
        var input = ws.NormQuantize(ws.Hidden.At((long)first * Config.EmbeddingLength), _outputNorm!.Pointer, Config.EmbeddingLength, Config.OutputNormEpsilon, count);
        _head!.Multiply(ws, input, count, ws.Logits.Pointer, false);
    }

    /// <summary>Whether the host matrix computes with the stored tensor's values (false when --head-type requantized it).</summary>
    private static bool ComputesStoredValues(WeightMatrix host, GgufTensorInfo stored) => stored.Type switch
    {
        GgmlType.F16 => host is HalfWeightMatrix,
        GgmlType.BF16 => host is BFloat16WeightMatrix,
        GgmlType.F32 => host is FloatWeightMatrix,
        _ => false,
    };

    private static DeviceLayer UploadLayer(CudaContext context, GgufFile file, ModelConfig c, LayerWeights w, int layer, ModelPlacement placement)
    {
        var made = new OwnedResources();
        try
        {
            DeviceMatrix Matrix(WeightMatrix host) => made.Add(placement.DeviceOf(host.Name, ComputeDevice.Cuda) == ComputeDevice.Cpu
                ? new HostComputedMatrix(host)
                : Upload(context, file, host));
            return new DeviceLayer(
                made.Add(Vector(context, w.AttentionNorm)),
                Matrix(w.Query),
                Matrix(w.Key),
                Matrix(w.Value),
                Matrix(w.Output),
                w.AttentionSubNorm is null ? null : made.Add(Vector(context, w.AttentionSubNorm)),
                made.Add(Vector(context, w.FfnNorm)),
                Matrix(w.Gate),
                Matrix(w.Up),
                Matrix(w.Down),
                w.FfnSubNorm is null ? null : made.Add(Vector(context, w.FfnSubNorm)));
        }
        catch
        {
            made.Dispose();
            throw;
        }
    }

    /// <summary>A block's matrix on the device: ternary tensors as codes, others as floats.</summary>
    private static DeviceMatrix Upload(CudaContext context, GgufFile file, WeightMatrix host)
    {
        if (!file.TryGetTensor(host.Name, out var tensor))
            throw new InvalidDataException($"{file.Path}: tensor '{host.Name}' is missing");
        if (TernaryCodec.IsTernary(tensor.Type))
            return DeviceTernaryMatrix.Upload(context, file, tensor, host.Rows, host.Columns);
        return host is Q8_0WeightMatrix q8 ? DeviceQ8Matrix.Upload(context, q8) : DeviceFloatMatrix.Upload(context, file, tensor, host);
    }

    private static DeviceBuffer<float> Vector(CudaContext context, float[] values)
    {
        var buffer = new DeviceBuffer<float>(context, values.Length);
        buffer.Upload(values);
        return buffer;
    }

    /// <summary>cos and sin of every position's angles, as the CPU engine computes them (so RoPE rounds the same).</summary>
    private static (DeviceBuffer<float> Cos, DeviceBuffer<float> Sin) RopeTables(CudaContext context, ModelConfig c, float[]? factors)
    {
        float[] frequencies = Transformer.RopeFrequencies(c, factors);
        int half = frequencies.Length;
        var cos = new float[(long)c.ContextLength * half];
        var sin = new float[cos.Length];
        for (int p = 0; p < c.ContextLength; p++)
        {
            for (int i = 0; i < half; i++)
            {
                float angle = p * frequencies[i];
                cos[((long)p * half) + i] = MathF.Cos(angle);
                sin[((long)p * half) + i] = MathF.Sin(angle);
            }
        }

        return (Vector(context, cos), Vector(context, sin));
    }

    private static IEnumerable<(string Field, WeightMatrix Matrix)> Fields(LayerWeights w) =>
    [
        ("q", w.Query), ("k", w.Key), ("v", w.Value), ("o", w.Output), ("gate", w.Gate), ("up", w.Up), ("down", w.Down),
    ];

    private static LayerWeights Replace(LayerWeights w, string field, WeightMatrix matrix) => field switch
    {
        "q" => w with { Query = matrix },
        "k" => w with { Key = matrix },
        "v" => w with { Value = matrix },
        "o" => w with { Output = matrix },
        "gate" => w with { Gate = matrix },
        "up" => w with { Up = matrix },
        _ => w with { Down = matrix },
    };

    private static string Describe(int first, int blocks) =>
        first >= blocks ? "no blocks" : first == 0 ? $"all {blocks} blocks" : $"blocks {first}–{blocks - 1} of {blocks}";


    public void Dispose()
    {
        _owned.Dispose();
    }
}
