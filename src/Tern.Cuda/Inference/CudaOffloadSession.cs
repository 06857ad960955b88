using Tern.Inference.Placement;
using Tern.Models;

namespace Tern.Cuda.Inference;

/// <summary>
/// One conversation on the device: the KV cache of the device's blocks (float32, [context, KV width] per block) and
/// the CUDA graph of a decoding step. A step is one graph launch: it copies the token's hidden state and position up
/// from page-locked memory, runs every block and the head, and copies the logits (or, with the head on the host, the
/// hidden state) back, so the host waits once per token. A greedy step has a graph of its own, which picks the token
/// on the device and copies back only its index. Prompts run the same kernels without a graph.
/// </summary>
internal sealed class CudaOffloadSession : IOffloadSession
{
    private readonly CudaModelOffload _model;
    private readonly DeviceBuffer<float>[] _keys, _values;
    private CudaGraph? _decodeStep, _greedyStep;
    private CudaDecodeStep? _persistentStep;
    private bool _persistentStepMade;

    public CudaOffloadSession(CudaModelOffload model, int contextLength)
    {
        _model = model;
        ContextLength = contextLength;
        int layers = model.Layers.Count;
        int shared = model.DecodeAttentionSharedBytes(contextLength, capacity: 0);
        if (shared > model.Context.MaxSharedMemoryPerBlockOptIn)
        {
            throw new NotSupportedException(
                $"a context of {contextLength} tokens is beyond the CUDA attention kernel, which keeps a row of scores in shared memory " +
                $"({shared} bytes; the GPU gives a block at most {model.Context.MaxSharedMemoryPerBlockOptIn}): use a shorter context (-c)");
        }

        long perLayer = (long)contextLength * model.Config.KeyValueLength;
        long needed = 2L * layers * perLayer * sizeof(float);
        var (free, _) = model.Context.GetMemoryInfo();
        if (needed > free)
        {
            throw new InvalidOperationException(
                $"the KV cache of {layers} GPU blocks for {contextLength} tokens needs {needed / (1024.0 * 1024 * 1024):F2} GiB and the GPU has " +
                $"{free / (1024.0 * 1024 * 1024):F2} GiB free: use a shorter context (-c) or fewer GPU layers (-ngl)");
        }

        _keys = new DeviceBuffer<float>[layers];
        _values = new DeviceBuffer<float>[layers];
        try
        {
            for (int i = 0; i < layers; i++)
            {
                _keys[i] = new DeviceBuffer<float>(model.Context, Math.Max(1, perLayer));
                _values[i] = new DeviceBuffer<float>(model.Context, Math.Max(1, perLayer));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public int ContextLength { get; }

    public void Forward(Span<float> hidden, int tokens, int position, int firstLogits, LogitsHandler? onLogits, Span<float> lastLogits)
    {
        var ws = _model.Workspace;
        int dim = _model.Config.EmbeddingLength, vocabulary = _model.Config.VocabSize;
        if (tokens < 1 || tokens > ws.Shape.Tokens)
            throw new ArgumentOutOfRangeException(nameof(tokens), tokens, $"the device takes 1 to {ws.Shape.Tokens} tokens per call");
        Stage(hidden, tokens, position);

        bool head = _model.ComputesHead && firstLogits < tokens;
        if (tokens == 1 && _model.Graphable)
        {
            _decodeStep ??= CaptureStep(greedy: false);
            _decodeStep.Launch(ws.Stream);
            ws.Stream.Synchronize();
            if (!_model.ComputesHead)
            {
                ws.StagedHidden.Span[..dim].CopyTo(hidden);
            }
            else if (head)
            {
                var logits = ws.StagedLogits.Span[..vocabulary];
                onLogits?.Invoke(0, logits);
                logits.CopyTo(lastLogits);
            }

            return;
        }

        RecordInput(tokens);
        _model.RecordBlocks(tokens, _keys, _values, ContextLength);
        if (!_model.ComputesHead)
        {
            ws.StagedHidden.CopyFromDevice(ws.Hidden.Pointer, 0, tokens * dim, ws.Stream);
            ws.Stream.Synchronize();
            ws.StagedHidden.Span[..(tokens * dim)].CopyTo(hidden);
            return;
        }

        for (int first = firstLogits; first < tokens; first += CudaInferenceKernels.MatvecTokens)
        {
            int count = Math.Min(CudaInferenceKernels.MatvecTokens, tokens - first);
            _model.RecordHead(first, count);
            ws.StagedLogits.CopyFromDevice(ws.Logits.Pointer, 0, count * vocabulary, ws.Stream);
            ws.Stream.Synchronize();
            for (int i = 0; i < count; i++)
            {
                var logits = ws.StagedLogits.Span.Slice(i * vocabulary, vocabulary);
                onLogits?.Invoke(first + i, logits);
                if (first + i == tokens - 1)
                    logits.CopyTo(lastLogits);
            }
        }

        if (firstLogits >= tokens)
            ws.Stream.Synchronize();
    }

    public bool TryForwardGreedy(Span<float> hidden, int position, out int token)
    {
        token = 0;
        if (!_model.ComputesHead || !_model.Graphable)
            return false;
        var ws = _model.Workspace;
        Stage(hidden, 1, position);
        _greedyStep ??= CaptureStep(greedy: true);
        _greedyStep.Launch(ws.Stream);
        ws.Stream.Synchronize();
        token = ws.StagedToken.Span[0];
        return true;
    }

    private void Stage(ReadOnlySpan<float> hidden, int tokens, int position)
    {
        var ws = _model.Workspace;
        ws.Context.MakeCurrent();
        hidden[..(tokens * _model.Config.EmbeddingLength)].CopyTo(ws.StagedHidden.Span);
        ws.StagedStep.Span[0] = position;
        ws.StagedStep.Span[1] = 0;
    }

    /// <summary>
    /// A decoding step's graph, captured at its first use. The logits step and the greedy step launch the same
    /// persistent kernel: its table is made once a session, when the first of them is captured.
    /// </summary>
    private CudaGraph CaptureStep(bool greedy)
    {
        if (!_persistentStepMade)
        {
            _persistentStep = _model.CreateDecodeStep(_keys, _values);
            _persistentStepMade = true;
        }

        return CudaGraph.Capture(_model.Workspace.Stream, _ => RecordStep(greedy));
    }

    /// <summary>
    /// What a decoding graph holds: input up, every block, the head and then the logits down (or, greedy, the argmax
    /// and only its index down); without the head, the hidden state down.
    /// </summary>
    private void RecordStep(bool greedy)
    {
        var ws = _model.Workspace;
        RecordInput(1);
        if (_persistentStep is not null)
            _model.RecordDecodeStep(_persistentStep);
        else
            _model.RecordDecodeBlocks(_keys, _values, ContextLength);
        if (_model.ComputesHead)
        {
            _model.RecordHead(0, 1);
            if (greedy)
            {
                ws.ArgMax.Record(ws.Logits.Pointer, _model.Config.VocabSize, ws.Stream);
                ws.StagedToken.CopyFromDevice(ws.ArgMax.Token.Pointer, 0, 1, ws.Stream);
            }
            else
            {
                ws.StagedLogits.CopyFromDevice(ws.Logits.Pointer, 0, _model.Config.VocabSize, ws.Stream);
            }
        }
        else
        {
            ws.StagedHidden.CopyFromDevice(ws.Hidden.Pointer, 0, _model.Config.EmbeddingLength, ws.Stream);
        }
    }

    private void RecordInput(int tokens)
    {
        var ws = _model.Workspace;
        ws.StagedHidden.CopyToDevice(ws.Hidden.Pointer, 0, tokens * _model.Config.EmbeddingLength, ws.Stream);
        ws.StagedStep.CopyToDevice(ws.Step.Pointer, 0, 2, ws.Stream);
    }

    public void Dispose()
    {
        _decodeStep?.Dispose();
        _decodeStep = null;
        _greedyStep?.Dispose();
        _greedyStep = null;
        _persistentStep?.Dispose();
        _persistentStep = null;
        foreach (var buffer in _keys)
            buffer?.Dispose();
        foreach (var buffer in _values)
            buffer?.Dispose();
    }
}
