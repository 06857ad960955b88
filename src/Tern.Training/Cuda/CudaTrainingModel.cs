using Tern.Cuda;
using Tern.Training.Layers;
using Tern.Training.Model;
using Tern.Training.Randomness;

namespace Tern.Training.Cuda;

/// <summary>
/// The model of docs/training.md on one GPU, with the contract of <see cref="TrainingModel{T}"/>: batches of up to
/// <see cref="BatchCapacity"/> sequences of exactly T tokens, gradients added to a float32 arena in
/// <see cref="ParameterLayout"/>'s order, the CPU's dropout masks (the same counter hash, the same keys). Parameters,
/// gradients, AdamW moments (<see cref="CudaAdamW"/>) and every activation stay on the device; the host sends tokens
/// and reads back the loss.
/// <para>
/// The matrix products go through cuBLASLt with bfloat16 operands and float32 accumulation (or float32 throughout,
/// <see cref="CudaTrainingPrecision"/>). Each BitLinear is one product of the integer activations q with the ternary
/// weights W̃, exact in bfloat16, whose consumer kernel applies γ/s; q, k, v share one product, and so do gate and up
/// (their weights are adjacent in the layout). Attention runs as strided-batched products over [batch·H] matrices
/// around a causal softmax kernel. The head and the loss go over chunks of rows. Everything else is fused kernels
/// (Cuda/Kernels/*.cu) whose sums have a fixed order, so a step gives the same result every time it runs.
/// </para>
/// </summary>
public sealed class CudaTrainingModel : IDisposable
{
    private const int EmbeddingSite = 0, AttentionSite = 1, FfnSite = 2, AttentionProbabilitySite = 3;
    private const int Threads = 256, WarpsPerBlock = Threads / 32;

    /// <summary>Rows one block takes in the backward row kernels, one after another: each block leaves one row of
    /// partial sums of a norm weight's gradient, so more rows per block mean fewer partials to add up, fewer blocks
    /// to keep the GPU busy.</summary>
    private const int RowsPerBlock = 8;

    /// <summary>The most columns one thread of a row kernel holds (ROW_VALUES in common.cuh).</summary>
    private const int RowValues = 8;

    /// <summary>Logits per chunk of the head (float32): 1 GiB.</summary>
    private const long LogitBudget = 1L << 28;

    private readonly OwnedResources _owned = new();
    private readonly ModelShape _shape;
    private readonly CublasGemm _gemm;
    private readonly CudaTrainingKernels _kernels;
    private readonly GemmPrecision _gemmPrecision;
    private readonly Dictionary<string, int> _tensorIndex = new(StringComparer.Ordinal);
    private readonly OperandBuffer _weightOperands;
    private readonly DeviceBuffer<float> _gammas;
    private readonly DeviceBuffer<float> _cos, _sin;
    private readonly CudaLayerActivations[] _layers;
    private readonly DeviceBuffer<float>[] _residual;
    private readonly DeviceBuffer<float> _finalRms;
    private readonly OperandBuffer _headIn;
    private readonly DeviceBuffer<float> _qkvRaw, _scores, _rowDots, _headsOut, _dKeyHeads, _dValueHeads, _projectionRaw;
    private readonly DeviceBuffer<float> _dx, _dHeadIn, _dWide, _partials;
    private readonly OperandBuffer _gradientTimesGamma, _gradientOverScale, _dOut;
    private readonly DeviceBuffer<float> _logits;
    private readonly OperandBuffer _dLogits;
    private readonly DeviceBuffer<float> _losses;
    private readonly DeviceBuffer<double> _lossTotal, _gradientNorm;
    private readonly DeviceBuffer<float> _clipFactor;
    private readonly DeviceBuffer<int> _tokens, _targets, _rowOrder, _groupStarts, _groupTokens;
    private readonly EmbeddingRowGroups _groups;
    private readonly int _headChunkRows;
    private readonly float _attentionScale;
    private OperandBuffer? _droppedProbabilities;
    private ulong _dropoutKey;
    private bool _training;

    /// <param name="compiler">Compiles the kernels (null: a compiler with the default disk cache).</param>
    public CudaTrainingModel(CudaContext context, ParameterLayout layout, int batchCapacity,
        CudaTrainingPrecision precision = CudaTrainingPrecision.BFloat16, KernelCompiler? compiler = null)
        : this(context, layout, batchCapacity, precision, compiler, flashAttention: null)
    {
    }

    /// <param name="flashAttention">Attention by the flash kernels (bfloat16 only, head sizes 16, 32, 64) or by batched
    /// products around a softmax kernel; null picks flash where it can. The device checks compare the two.</param>
    internal CudaTrainingModel(CudaContext context, ParameterLayout layout, int batchCapacity,
        CudaTrainingPrecision precision, KernelCompiler? compiler, bool? flashAttention)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchCapacity);
        Context = context;
        Layout = layout;
        _shape = layout.Shape;
        BatchCapacity = batchCapacity;
        Precision = precision;
        for (int i = 0; i < layout.Tensors.Count; i++)
            _tensorIndex.Add(layout.Tensors[i].Name, i);
        CheckAdjacent(layout);
        bool flashPossible = precision == CudaTrainingPrecision.BFloat16 && CudaTrainingKernels.FlashHeadSizes.Contains(_shape.HeadDim)
            && (long)batchCapacity * _shape.Heads <= ushort.MaxValue;
        if (flashAttention == true && !flashPossible)
            throw new NotSupportedException($"flash attention needs bfloat16 products and a head size of {string.Join(", ", CudaTrainingKernels.FlashHeadSizes)}");
        FlashAttention = flashAttention ?? flashPossible;

        try
        {
            _kernels = _owned.Add(new CudaTrainingKernels(compiler ?? new KernelCompiler(context), precision));
            _gemm = _owned.Add(new CublasGemm(context));
            _gemmPrecision = precision == CudaTrainingPrecision.BFloat16 ? GemmPrecision.BFloat16 : GemmPrecision.Float32;
            int operandBytes = precision == CudaTrainingPrecision.BFloat16 ? 2 : 4;
            long rows = (long)batchCapacity * _shape.Context;
            int d = _shape.Dim, q = _shape.QueryDim, f = _shape.FfnDim, v = _shape.VocabularySize;
            long headMajor = (long)batchCapacity * _shape.Heads * _shape.Context * _shape.HeadDim;
            long widest = Math.Max(Math.Max(d, 2L * f), QkvWidth);
            if (rows * widest > int.MaxValue)
                throw new NotSupportedException($"a batch of {rows} positions × {widest} values per row is more than the CUDA trainer's kernels index (2³¹); use a smaller --batch");

            Parameters = Floats(layout.Count);
            Gradients = Floats(layout.Count);
            Chunks = _owned.Add(new ParameterChunks(context, layout));
            _weightOperands = Operands(layout.Count, operandBytes);
            _gammas = Floats(layout.Tensors.Count);
            var rope = new RotaryEmbedding<float>(_shape.HeadDim, _shape.Context, _shape.RopeTheta, _shape.Architecture.RotatesHalves());
            _cos = Floats(rope.CosineTable.Length);
            _cos.Upload(rope.CosineTable);
            _sin = Floats(rope.SineTable.Length);
            _sin.Upload(rope.SineTable);
            _attentionScale = 1f / MathF.Sqrt(_shape.HeadDim);

            _layers = new CudaLayerActivations[_shape.Layers];
            for (int l = 0; l < _layers.Length; l++)
                _layers[l] = _owned.Add(new CudaLayerActivations(context, _shape, batchCapacity, operandBytes, FlashAttention));
            _residual = new DeviceBuffer<float>[_shape.Layers + 1];
            for (int l = 0; l <= _shape.Layers; l++)
                _residual[l] = Floats(rows * d);
            _finalRms = Floats(rows);
            _headIn = Operands(rows * d, operandBytes);

            _qkvRaw = Floats(rows * QkvWidth);
            _scores = Floats(FlashAttention ? 1 : (long)batchCapacity * _shape.Heads * _shape.Context * _shape.Context);
            _rowDots = Floats(FlashAttention ? (long)batchCapacity * _shape.Heads * _shape.Context : 1);
            _headsOut = Floats(headMajor);
            _dKeyHeads = Floats(headMajor);
            _dValueHeads = Floats(headMajor);
            _projectionRaw = Floats(rows * d);
            _dx = Floats(rows * d);
            _dHeadIn = Floats(rows * d);
            _dWide = Floats(rows * Math.Max(Math.Max(d, q), f));
            _partials = Floats(RowBlocks(rows) * Math.Max(Math.Max(d, q), f));
            if (Math.Max(Math.Max(d, q), f) > RowValues * 1024)
                throw new NotSupportedException($"the CUDA trainer's row kernels take rows of up to {RowValues * 1024} values");
            _gradientTimesGamma = Operands(rows * widest, operandBytes);
            _gradientOverScale = Operands(rows * widest, operandBytes);
            _dOut = Operands(headMajor, operandBytes);

            _headChunkRows = (int)Math.Min(rows, Math.Max(1, LogitBudget / v));
            _logits = Floats((long)_headChunkRows * v);
            _dLogits = Operands((long)_headChunkRows * v, operandBytes);
            _losses = Floats(rows);
            _lossTotal = _owned.Add(new DeviceBuffer<double>(context, 1));
            _gradientNorm = _owned.Add(new DeviceBuffer<double>(context, 1));
            _clipFactor = Floats(1);
            _tokens = Ints(rows);
            _targets = Ints(rows);
            _rowOrder = Ints(rows);
            _groupStarts = Ints(rows + 1);
            _groupTokens = Ints(rows);
            _groups = new EmbeddingRowGroups(v, (int)rows);
            ZeroGradients();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public CudaContext Context { get; }

    public ParameterLayout Layout { get; }

    public int BatchCapacity { get; }

    public CudaTrainingPrecision Precision { get; }

    /// <summary>Whether attention runs in the flash kernels (attention_flash.cu) rather than as batched products.</summary>
    public bool FlashAttention { get; }

    /// <summary>Dropout probability during <see cref="ForwardBackward"/> (never during evaluation).</summary>
    public double DropoutProbability { get; set; }

    /// <summary>Dropout probability of the attention weights during <see cref="ForwardBackward"/> (never during evaluation).</summary>
    public double AttentionDropoutProbability { get; set; }

    /// <summary>The parameters, float32, in <see cref="ParameterLayout"/>'s order.</summary>
    public DeviceBuffer<float> Parameters { get; }

    /// <summary>The gradients, in the same order; <see cref="ForwardBackward"/> adds to them.</summary>
    public DeviceBuffer<float> Gradients { get; }

    internal ParameterChunks Chunks { get; }

    internal CudaTrainingKernels Kernels => _kernels;

    /// <summary>The factor <see cref="ClipGradients"/> found (1 after <see cref="ZeroGradients"/>); AdamW applies it.</summary>
    internal DeviceBuffer<float> ClipFactor => _clipFactor;

    /// <summary>Called with a phase's name before its work is queued, so that a profiler can record a device event
    /// there (the device checks' throughput breakdown); null otherwise.</summary>
    internal Action<string>? PhaseMarker { get; set; }

    private int QkvWidth => _shape.QueryDim + (2 * _shape.KeyValueDim);

    public void UploadParameters(ReadOnlySpan<float> values)
    {
        RequireArena(values.Length);
        Parameters.Upload(values);
    }

    public void DownloadParameters(Span<float> values)
    {
        RequireArena(values.Length);
        Parameters.Download(values);
    }

    public void UploadGradients(ReadOnlySpan<float> values)
    {
        RequireArena(values.Length);
        Gradients.Upload(values);
    }

    /// <summary>The gradients as the backward passes added them (before any clipping, which AdamW applies).</summary>
    public void DownloadGradients(Span<float> values)
    {
        RequireArena(values.Length);
        Gradients.Download(values);
    }

    /// <summary>Sets every gradient to 0 (and forgets the last clip factor).</summary>
    public void ZeroGradients()
    {
        Gradients.Zero();
        _clipFactor.FillWords(BitConverter.SingleToUInt32Bits(1f));
    }

    /// <summary>Runs a batch forward and backward; gradients are added to <see cref="Gradients"/>. Returns the mean loss.</summary>
    public double ForwardBackward(ReadOnlySpan<int> tokens, ReadOnlySpan<int> targets, int batch, ulong dropoutKey = 0)
    {
        CheckBatch(tokens, targets, batch, needTargets: true);
        _training = true;
        _dropoutKey = dropoutKey;
        UploadBatch(tokens, targets, withGroups: true);
        int rows = batch * _shape.Context;
        Forward(batch);
        Head(rows, gradient: true);
        Backward(batch);
        return DownloadLoss() / rows;
    }

    /// <summary>The mean loss of a batch without dropout and without gradients.</summary>
    public double Evaluate(ReadOnlySpan<int> tokens, ReadOnlySpan<int> targets, int batch)
    {
        CheckBatch(tokens, targets, batch, needTargets: true);
        _training = false;
        UploadBatch(tokens, targets, withGroups: false);
        int rows = batch * _shape.Context;
        Forward(batch);
        Head(rows, gradient: false);
        return DownloadLoss() / rows;
    }

    /// <summary>The logits [batch·T, V] of every position, without dropout.</summary>
    public void ComputeLogits(ReadOnlySpan<int> tokens, int batch, float[] logits)
    {
        ArgumentNullException.ThrowIfNull(logits);
        CheckBatch(tokens, [], batch, needTargets: false);
        int rows = batch * _shape.Context, v = _shape.VocabularySize, d = _shape.Dim;
        if (logits.LongLength < (long)rows * v)
            throw new ArgumentException($"{logits.Length} logits for {rows} positions of {v}", nameof(logits));
        _training = false;
        UploadBatch(tokens, [], withGroups: false);
        Forward(batch);
        for (int first = 0; first < rows; first += _headChunkRows)
        {
            int n = Math.Min(_headChunkRows, rows - first);
            Gemm(n, v, d, _headIn.At((long)first * d), false, _weightOperands.At(Layout.Output.Offset), true, _logits.Pointer);
            _logits.Download(logits.AsSpan(first * v, n * v));
        }
    }

    /// <summary>The global L2 norm of the gradients (summed in double); when it exceeds <paramref name="maxNorm"/> &gt; 0,
    /// the next <see cref="CudaAdamW.Update"/> scales them by maxNorm / norm, as GradientClipping.ClipToNorm does.</summary>
    public double ClipGradients(double maxNorm)
    {
        Mark("gradient norm");
        var arguments = new KernelArguments();
        arguments.Add(Gradients.Pointer);
        AddChunkTables(ref arguments);
        arguments.Add(1);
        arguments.Add(Chunks.Partials.Pointer);
        _kernels.ChunkSums.Launch(Chunks.Count, Threads, 0, null, ref arguments);
        _kernels.GradientNorm.Launch(1, 1024, 0, null, Chunks.Partials.Pointer, Chunks.Count, maxNorm, _gradientNorm.Pointer, _clipFactor.Pointer);
        var norm = new double[1];
        _gradientNorm.Download(norm);
        return norm[0];
    }

    /// <summary>The ternary values W̃ (as floats) and scale γ the last forward pass used for a BitLinear weight.</summary>
    public (float[] Ternary, float Gamma) QuantizedWeights(ParameterTensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.Kind != ParameterKind.Linear || !_shape.Quantized)
            throw new InvalidOperationException($"'{tensor.Name}' is not quantized");
        Mark("weights");
        PrepareWeights();
        var gammas = new float[Layout.Tensors.Count];
        _gammas.Download(gammas);
        var values = new float[tensor.Length];
        if (Precision == CudaTrainingPrecision.Float32)
        {
            var raw = new byte[tensor.Length * 4];
            DownloadOperands(tensor, raw);
            Buffer.BlockCopy(raw, 0, values, 0, raw.Length);
        }
        else
        {
            var raw = new byte[tensor.Length * 2];
            DownloadOperands(tensor, raw);
            for (int i = 0; i < values.Length; i++)
                values[i] = BitConverter.UInt32BitsToSingle((uint)BitConverter.ToUInt16(raw, 2 * i) << 16);
        }

        return (values, gammas[_tensorIndex[tensor.Name]]);
    }

    public void Dispose()
    {
        _owned.Dispose();
    }

    private void DownloadOperands(ParameterTensor tensor, byte[] destination)
    {
        using var staging = new DeviceBuffer<byte>(Context, destination.Length);
        staging.CopyFrom(_weightOperands.Bytes, tensor.Offset * _weightOperands.ElementBytes, 0, destination.Length);
        staging.Download(destination);
    }

    // ---- forward ----

    private void Forward(int batch)
    {
        PrepareWeights();
        int rows = batch * _shape.Context, d = _shape.Dim, q = _shape.QueryDim, f = _shape.FfnDim;
        int t = _shape.Context, heads = _shape.Heads, hd = _shape.HeadDim;
        bool sub = _shape.Architecture.HasSubNorms(), quantized = _shape.Quantized;
        float eps = _shape.NormEpsilon;
        var (threshold, keep) = DropoutParameters(DropoutProbability);
        var (attentionThreshold, attentionKeep) = DropoutParameters(AttentionDropoutProbability);

        Mark("embedding");
        {
            var arguments = new KernelArguments();
            arguments.Add(_tokens.Pointer);
            arguments.Add(Parameters.At(Layout.TokenEmbedding.Offset));
            arguments.Add(rows);
            arguments.Add(d);
            arguments.Add(DropoutKey(EmbeddingSite, 0));
            arguments.Add(threshold);
            arguments.Add(keep);
            arguments.Add(_residual[0].Pointer);
            _kernels.EmbeddingForward.Launch(Dim3.Covering((long)rows * d, Threads), Threads, 0, null, ref arguments);
        }

        long headMajor = (long)t * hd, square = (long)t * t;
        for (int l = 0; l < _shape.Layers; l++)
        {
            var p = Layout.Layers[l];
            var a = _layers[l];
            Mark("norm+quantize");
            NormQuantize(_residual[l].Pointer, Parameters.At(p.AttentionNorm.Offset), rows, d, normalize: true, quantized, a.AttentionRms.Pointer, a.AttentionIn.Pointer, a.AttentionInScales.Pointer);
            Mark("qkv product");
            Gemm(rows, QkvWidth, d, a.AttentionIn.Pointer, false, Weights(p.Query), true, _qkvRaw.Pointer);
            Mark("rope");
            {
                var arguments = new KernelArguments();
                arguments.Add(_qkvRaw.Pointer);
                arguments.Add(rows);
                arguments.Add(t);
                arguments.Add(heads);
                arguments.Add(_shape.KeyValueHeads);
                arguments.Add(hd);
                arguments.Add(GammasOrNull);
                arguments.Add(Index(p.Query));
                arguments.Add(ScalesOrNull(a.AttentionInScales));
                arguments.Add(_cos.Pointer);
                arguments.Add(_sin.Pointer);
                arguments.Add(_shape.Architecture.RotatesHalves() ? 1 : 0);
                arguments.Add(a.Query.Pointer);
                arguments.Add(a.Key.Pointer);
                arguments.Add(a.Value.Pointer);
                _kernels.RopePermuteForward.Launch(Dim3.Covering((long)rows * heads * (hd / 2), Threads), Threads, 0, null, ref arguments);
            }

            int matrices = batch * heads;
            if (FlashAttention)
            {
                Mark("flash attention");
                var arguments = new KernelArguments();
                arguments.Add(a.Query.Pointer);
                arguments.Add(a.Key.Pointer);
                arguments.Add(a.Value.Pointer);
                arguments.Add(t);
                arguments.Add(heads);
                arguments.Add(_attentionScale);
                AddAttentionDropout(ref arguments, l, attentionThreshold, attentionKeep);
                arguments.Add(a.Attention.Pointer);
                arguments.Add(a.LogSumExp.Pointer);
                _kernels.Flash(hd).Forward.Launch(new Dim3(FlashTiles(t), matrices), FlashThreads, 0, null, ref arguments);
            }
            else
            {
                Mark("scores product");
                BatchedGemm(matrices, t, t, hd, a.Query.Pointer, false, headMajor, a.Key.Pointer, true, headMajor, _scores.Pointer, square, _attentionScale);
                Mark("softmax");
                {
                    var arguments = new KernelArguments();
                    arguments.Add(_scores.Pointer);
                    arguments.Add(t);
                    arguments.Add((long)matrices * t);
                    arguments.Add(a.Probabilities.Pointer);
                    _kernels.CausalSoftmax.Launch(Dim3.Covering((long)matrices * t, WarpsPerBlock), Threads, 0, null, ref arguments);
                }

                var weights = DroppedProbabilities(a, matrices, l, attentionThreshold, attentionKeep);
                Mark("values product");
                BatchedGemm(matrices, t, hd, t, weights, false, square, a.Value.Pointer, false, headMajor, _headsOut.Pointer, headMajor);
                Mark("unpermute");
                _kernels.AttentionUnpermute.Launch(Dim3.Covering((long)rows * q, Threads), Threads, 0, null, _headsOut.Pointer, rows, t, heads, hd, a.Attention.Pointer);
            }

            Mark("norm+quantize");
            NormQuantize(a.Attention.Pointer, sub ? Parameters.At(p.AttentionSubNorm!.Offset) : DevicePointer.Null, rows, q, normalize: sub, quantized,
                a.AttentionSubRms.Pointer, a.OutputIn.Pointer, a.OutputInScales.Pointer);
            Mark("o product");
            Gemm(rows, d, q, a.OutputIn.Pointer, false, Weights(p.AttentionOutput), true, _projectionRaw.Pointer);
            Mark("residual");
            ResidualAdd(_residual[l], p.AttentionOutput, a.OutputInScales, DropoutKey(AttentionSite, l), threshold, keep, rows, a.Middle);

            Mark("norm+quantize");
            NormQuantize(a.Middle.Pointer, Parameters.At(p.FfnNorm.Offset), rows, d, normalize: true, quantized, a.FfnRms.Pointer, a.FfnIn.Pointer, a.FfnInScales.Pointer);
            Mark("gate/up product");
            Gemm(rows, 2 * f, d, a.FfnIn.Pointer, false, Weights(p.Gate), true, a.GateUp.Pointer);
            Mark("gated");
            {
                var arguments = new KernelArguments();
                arguments.Add(a.GateUp.Pointer);
                arguments.Add(rows);
                arguments.Add(f);
                arguments.Add(GammasOrNull);
                arguments.Add(Index(p.Gate));
                arguments.Add(ScalesOrNull(a.FfnInScales));
                arguments.Add(sub ? 1 : 0);
                arguments.Add(sub ? 1 : 0);
                arguments.Add(sub ? Parameters.At(p.FfnSubNorm!.Offset) : DevicePointer.Null);
                arguments.Add(eps);
                arguments.Add(quantized ? 1 : 0);
                arguments.Add(a.FfnSubRms.Pointer);
                arguments.Add(a.DownIn.Pointer);
                arguments.Add(a.DownInScales.Pointer);
                _kernels.GatedForward.Launch(rows, RowThreads(f), 0, null, ref arguments);
            }

            Mark("down product");
            Gemm(rows, d, f, a.DownIn.Pointer, false, Weights(p.Down), true, _projectionRaw.Pointer);
            Mark("residual");
            ResidualAdd(a.Middle, p.Down, a.DownInScales, DropoutKey(FfnSite, l), threshold, keep, rows, _residual[l + 1]);
        }

        Mark("norm+quantize");
        NormQuantize(_residual[_shape.Layers].Pointer, Parameters.At(Layout.OutputNorm.Offset), rows, d, normalize: true, quantize: false,
            _finalRms.Pointer, _headIn.Pointer, DevicePointer.Null);
    }

    /// <summary>γ of every BitLinear weight and the operands every product reads, from the current parameters.</summary>
    private void PrepareWeights()
    {
        bool quantized = _shape.Quantized;
        if (quantized)
        {
            var sums = new KernelArguments();
            sums.Add(Parameters.Pointer);
            AddChunkTables(ref sums);
            sums.Add(0);
            sums.Add(Chunks.Partials.Pointer);
            _kernels.ChunkSums.Launch(Chunks.Count, Threads, 0, null, ref sums);
            var gammas = new KernelArguments();
            gammas.Add(Chunks.Partials.Pointer);
            gammas.Add(Chunks.TensorFirstChunks.Pointer);
            gammas.Add(Chunks.TensorChunkCounts.Pointer);
            gammas.Add(Chunks.TensorLengths.Pointer);
            gammas.Add(Chunks.TensorKinds.Pointer);
            gammas.Add(Chunks.TensorCount);
            gammas.Add(_gammas.Pointer);
            _kernels.WeightGammas.Launch(Dim3.Covering(Chunks.TensorCount, Threads), Threads, 0, null, ref gammas);
        }

        var operands = new KernelArguments();
        operands.Add(Parameters.Pointer);
        AddChunkTables(ref operands);
        operands.Add(_gammas.Pointer);
        operands.Add(quantized ? 1 : 0);
        operands.Add(_weightOperands.Pointer);
        _kernels.WeightOperands.Launch(Chunks.Count, Threads, 0, null, ref operands);
    }

    private void NormQuantize(DevicePointer x, DevicePointer weight, int rows, int width, bool normalize, bool quantize,
        DevicePointer reciprocalRms, DevicePointer output, DevicePointer scales)
    {
        var arguments = new KernelArguments();
        arguments.Add(x);
        arguments.Add(weight);
        arguments.Add(rows);
        arguments.Add(width);
        arguments.Add(_shape.NormEpsilon);
        arguments.Add(normalize ? 1 : 0);
        arguments.Add(quantize ? 1 : 0);
        arguments.Add(reciprocalRms);
        arguments.Add(output);
        arguments.Add(scales);
        _kernels.RmsNormQuantize.Launch(rows, RowThreads(width), 0, null, ref arguments);
    }

    private void ResidualAdd(DeviceBuffer<float> residual, ParameterTensor projection, DeviceBuffer<float> scales, ulong key,
        ulong threshold, float keep, int rows, DeviceBuffer<float> output)
    {
        int d = _shape.Dim;
        var arguments = new KernelArguments();
        arguments.Add(residual.Pointer);
        arguments.Add(_projectionRaw.Pointer);
        arguments.Add(rows);
        arguments.Add(d);
        arguments.Add(GammasOrNull);
        arguments.Add(Index(projection));
        arguments.Add(ScalesOrNull(scales));
        arguments.Add(key);
        arguments.Add(threshold);
        arguments.Add(keep);
        arguments.Add(output.Pointer);
        _kernels.ResidualDropoutAdd.Launch(Dim3.Covering((long)rows * d, Threads), Threads, 0, null, ref arguments);
    }

    // ---- head and loss ----

    private void Head(int rows, bool gradient)
    {
        int d = _shape.Dim, v = _shape.VocabularySize;
        var output = Layout.Output;
        float inverseRows = 1f / rows;
        for (int first = 0; first < rows; first += _headChunkRows)
        {
            int n = Math.Min(_headChunkRows, rows - first);
            var headIn = _headIn.At((long)first * d);
            Mark("logits product");
            Gemm(n, v, d, headIn, false, _weightOperands.At(output.Offset), true, _logits.Pointer);
            Mark("cross-entropy");
            var arguments = new KernelArguments();
            arguments.Add(_logits.Pointer);
            arguments.Add(_targets.At(first));
            arguments.Add(n);
            arguments.Add(v);
            arguments.Add(inverseRows);
            arguments.Add(gradient ? 1 : 0);
            arguments.Add(_losses.At(first));
            arguments.Add(_dLogits.Pointer);
            _kernels.CrossEntropy.Launch(Dim3.Covering(n, WarpsPerBlock), Threads, 0, null, ref arguments);
            if (!gradient)
                continue;
            Mark("head dX product");
            Gemm(n, d, v, _dLogits.Pointer, false, _weightOperands.At(output.Offset), false, _dHeadIn.At((long)first * d));
            Mark("head dW product");
            Gemm(v, d, n, _dLogits.Pointer, true, headIn, false, Gradients.At(output.Offset), beta: 1);
        }

        Mark("loss sum");
        _kernels.SumLosses.Launch(1, 1024, 0, null, _losses.Pointer, rows, _lossTotal.Pointer);
    }

    private double DownloadLoss()
    {
        var total = new double[1];
        _lossTotal.Download(total);
        return total[0];
    }

    // ---- backward ----

    private void Backward(int batch)
    {
        int rows = batch * _shape.Context, d = _shape.Dim, q = _shape.QueryDim, f = _shape.FfnDim;
        int t = _shape.Context, heads = _shape.Heads, hd = _shape.HeadDim;
        bool sub = _shape.Architecture.HasSubNorms();
        var (threshold, keep) = DropoutParameters(DropoutProbability);
        var (attentionThreshold, attentionKeep) = DropoutParameters(AttentionDropoutProbability);
        long headMajor = (long)t * hd, square = (long)t * t;
        int matrices = batch * heads;
        bool fusedQkvGradient = FlashAttention && _shape.KeyValueHeads == heads;

        NormBackward(_residual[_shape.Layers], Layout.OutputNorm, _finalRms, _dHeadIn, rows, accumulate: false);
        for (int l = _shape.Layers - 1; l >= 0; l--)
        {
            var p = Layout.Layers[l];
            var a = _layers[l];

            // FFN: x_out = middle + dropout(down(…)).
            Mark("projection gradient");
            ProjectionGradient(p.Down, a.DownInScales, DropoutKey(FfnSite, l), threshold, keep, rows);
            Mark("down dX product");
            Gemm(rows, f, d, _gradientTimesGamma.Pointer, false, Weights(p.Down), false, _dWide.Pointer);
            Mark("down dW product");
            Gemm(d, f, rows, _gradientOverScale.Pointer, true, a.DownIn.Pointer, false, Gradients.At(p.Down.Offset), beta: 1);
            Mark("gated backward");
            {
                var arguments = new KernelArguments();
                arguments.Add(_dWide.Pointer);
                arguments.Add(a.FfnSubRms.Pointer);
                arguments.Add(sub ? Parameters.At(p.FfnSubNorm!.Offset) : DevicePointer.Null);
                arguments.Add(sub ? 1 : 0);
                arguments.Add(a.GateUp.Pointer);
                arguments.Add(rows);
                arguments.Add(f);
                arguments.Add(sub ? 1 : 0);
                arguments.Add(GammasOrNull);
                arguments.Add(Index(p.Gate));
                arguments.Add(ScalesOrNull(a.FfnInScales));
                arguments.Add(RowsPerBlock);
                arguments.Add(_gradientTimesGamma.Pointer);
                arguments.Add(_gradientOverScale.Pointer);
                arguments.Add(_partials.Pointer);
                _kernels.GatedBackward.Launch((int)RowBlocks(rows), RowThreads(f), 0, null, ref arguments);
            }

            if (sub)
                ReducePartials(rows, f, p.FfnSubNorm!);
            Mark("gate/up dX product");
            Gemm(rows, d, 2 * f, _gradientTimesGamma.Pointer, false, Weights(p.Gate), false, _dWide.Pointer);
            Mark("gate/up dW product");
            Gemm(2 * f, d, rows, _gradientOverScale.Pointer, true, a.FfnIn.Pointer, false, Gradients.At(p.Gate.Offset), beta: 1);
            NormBackward(a.Middle, p.FfnNorm, a.FfnRms, _dWide, rows, accumulate: true);

            // Attention: middle = input + dropout(output(…)).
            Mark("projection gradient");
            ProjectionGradient(p.AttentionOutput, a.OutputInScales, DropoutKey(AttentionSite, l), threshold, keep, rows);
            Mark("o dX product");
            Gemm(rows, q, d, _gradientTimesGamma.Pointer, false, Weights(p.AttentionOutput), false, _dWide.Pointer);
            Mark("o dW product");
            Gemm(d, q, rows, _gradientOverScale.Pointer, true, a.OutputIn.Pointer, false, Gradients.At(p.AttentionOutput.Offset), beta: 1);
            Mark("attention output gradient");
            {
                var arguments = new KernelArguments();
                arguments.Add(_dWide.Pointer);
                arguments.Add(a.Attention.Pointer);
                arguments.Add(a.AttentionSubRms.Pointer);
                arguments.Add(sub ? Parameters.At(p.AttentionSubNorm!.Offset) : DevicePointer.Null);
                arguments.Add(sub ? 1 : 0);
                arguments.Add(rows);
                arguments.Add(t);
                arguments.Add(heads);
                arguments.Add(hd);
                arguments.Add(RowsPerBlock);
                arguments.Add(_dOut.Pointer);
                arguments.Add(_partials.Pointer);
                _kernels.AttentionOutputGradient.Launch((int)RowBlocks(rows), RowThreads(q), 0, null, ref arguments);
            }

            if (sub)
                ReducePartials(rows, q, p.AttentionSubNorm!);
            if (FlashAttention)
            {
                Mark("flash attention backward");
                _kernels.AttentionRowDot.Launch(Dim3.Covering((long)matrices * t, WarpsPerBlock), Threads, 0, null,
                    _dOut.Pointer, a.Attention.Pointer, matrices * t, t, heads, hd, _rowDots.Pointer);
                var (_, backwardKeys, backwardQueries) = _kernels.Flash(hd);
                // Without grouped heads the kernels write the QKV gradient operands themselves (no rope_backward_unpermute).
                var target = fusedQkvGradient
                    ? new QkvGradientTarget(_gradientTimesGamma.Pointer, _gradientOverScale.Pointer, _cos.Pointer, _sin.Pointer, GammasOrNull,
                        ScalesOrNull(a.AttentionInScales), Index(p.Query), _shape.Architecture.RotatesHalves() ? 1 : 2, heads, t)
                    : new QkvGradientTarget(DevicePointer.Null, DevicePointer.Null, _cos.Pointer, _sin.Pointer, DevicePointer.Null,
                        DevicePointer.Null, 0, 0, heads, t);
                var keys = FlashBackwardArguments(a, l, attentionThreshold, attentionKeep);
                keys.Add(_dKeyHeads.Pointer);
                keys.Add(_dValueHeads.Pointer);
                keys.Add(target);
                backwardKeys.Launch(new Dim3(FlashTiles(t), matrices), FlashThreads, 0, null, ref keys);
                var queries = FlashBackwardArguments(a, l, attentionThreshold, attentionKeep);
                queries.Add(_headsOut.Pointer);
                queries.Add(target);
                backwardQueries.Launch(new Dim3(FlashTiles(t), matrices), FlashThreads, 0, null, ref queries);
            }
            else
            {
                Mark("dP product");
                BatchedGemm(matrices, t, t, hd, _dOut.Pointer, false, headMajor, a.Value.Pointer, true, headMajor, _scores.Pointer, square);
                var weights = DroppedProbabilities(a, matrices, l, attentionThreshold, attentionKeep);
                Mark("dV product");
                BatchedGemm(matrices, t, hd, t, weights, true, square, _dOut.Pointer, false, headMajor, _dValueHeads.Pointer, headMajor);
                Mark("softmax backward");
                {
                    var arguments = new KernelArguments();
                    arguments.Add(a.Probabilities.Pointer);
                    arguments.Add(_scores.Pointer);
                    arguments.Add(t);
                    arguments.Add((long)matrices * t);
                    arguments.Add(_attentionScale);
                    AddAttentionDropout(ref arguments, l, attentionThreshold, attentionKeep);
                    arguments.Add(a.Probabilities.Pointer);
                    _kernels.SoftmaxBackward.Launch(Dim3.Covering((long)matrices * t, WarpsPerBlock), Threads, 0, null, ref arguments);
                }

                // The probabilities' buffer now holds dS.
                Mark("dQ product");
                BatchedGemm(matrices, t, hd, t, a.Probabilities.Pointer, false, square, a.Key.Pointer, false, headMajor, _headsOut.Pointer, headMajor);
                Mark("dK product");
                BatchedGemm(matrices, t, hd, t, a.Probabilities.Pointer, true, square, a.Query.Pointer, false, headMajor, _dKeyHeads.Pointer, headMajor);
            }

            if (!fusedQkvGradient)
            {
                Mark("rope backward");
                {
                    var arguments = new KernelArguments();
                    arguments.Add(_headsOut.Pointer);
                    arguments.Add(_dKeyHeads.Pointer);
                    arguments.Add(_dValueHeads.Pointer);
                    arguments.Add(rows);
                    arguments.Add(t);
                    arguments.Add(heads);
                    arguments.Add(_shape.KeyValueHeads);
                    arguments.Add(hd);
                    arguments.Add(_cos.Pointer);
                    arguments.Add(_sin.Pointer);
                    arguments.Add(_shape.Architecture.RotatesHalves() ? 1 : 0);
                    arguments.Add(GammasOrNull);
                    arguments.Add(Index(p.Query));
                    arguments.Add(ScalesOrNull(a.AttentionInScales));
                    arguments.Add(_gradientTimesGamma.Pointer);
                    arguments.Add(_gradientOverScale.Pointer);
                    long threads = (long)rows * (heads + (2 * _shape.KeyValueHeads)) * (hd / 2);
                    _kernels.RopeBackwardUnpermute.Launch(Dim3.Covering(threads, Threads), Threads, 0, null, ref arguments);
                }
            }

            Mark("qkv dX product");
            Gemm(rows, d, QkvWidth, _gradientTimesGamma.Pointer, false, Weights(p.Query), false, _dWide.Pointer);
            Mark("qkv dW product");
            Gemm(QkvWidth, d, rows, _gradientOverScale.Pointer, true, a.AttentionIn.Pointer, false, Gradients.At(p.Query.Offset), beta: 1);
            NormBackward(_residual[l], p.AttentionNorm, a.AttentionRms, _dWide, rows, accumulate: true);
        }

        Mark("embedding backward");
        {
            var arguments = new KernelArguments();
            arguments.Add(_dx.Pointer);
            arguments.Add(_rowOrder.Pointer);
            arguments.Add(_groupStarts.Pointer);
            arguments.Add(_groupTokens.Pointer);
            arguments.Add(d);
            arguments.Add(DropoutKey(EmbeddingSite, 0));
            arguments.Add(threshold);
            arguments.Add(keep);
            arguments.Add(Gradients.At(Layout.TokenEmbedding.Offset));
            _kernels.EmbeddingBackward.Launch(_groups.GroupCount, 128, 0, null, ref arguments);
        }
    }

    private void ProjectionGradient(ParameterTensor projection, DeviceBuffer<float> scales, ulong key, ulong threshold, float keep, int rows)
    {
        int d = _shape.Dim;
        var arguments = new KernelArguments();
        arguments.Add(_dx.Pointer);
        arguments.Add(rows);
        arguments.Add(d);
        arguments.Add(key);
        arguments.Add(threshold);
        arguments.Add(keep);
        arguments.Add(GammasOrNull);
        arguments.Add(Index(projection));
        arguments.Add(ScalesOrNull(scales));
        arguments.Add(_gradientTimesGamma.Pointer);
        arguments.Add(_gradientOverScale.Pointer);
        _kernels.ProjectionGradient.Launch(Dim3.Covering((long)rows * d, Threads), Threads, 0, null, ref arguments);
    }

    /// <summary>dx (+)= the gradient through an RMSNorm over width D, and the norm weight's gradient.</summary>
    private void NormBackward(DeviceBuffer<float> x, ParameterTensor norm, DeviceBuffer<float> reciprocalRms, DeviceBuffer<float> dy, int rows, bool accumulate)
    {
        int d = _shape.Dim;
        Mark("norm backward");
        var arguments = new KernelArguments();
        arguments.Add(x.Pointer);
        arguments.Add(Parameters.At(norm.Offset));
        arguments.Add(reciprocalRms.Pointer);
        arguments.Add(dy.Pointer);
        arguments.Add(rows);
        arguments.Add(d);
        arguments.Add(RowsPerBlock);
        arguments.Add(accumulate ? 1 : 0);
        arguments.Add(_dx.Pointer);
        arguments.Add(_partials.Pointer);
        _kernels.RmsNormBackward.Launch((int)RowBlocks(rows), RowThreads(d), 0, null, ref arguments);
        ReducePartials(rows, d, norm);
    }

    private void ReducePartials(int rows, int width, ParameterTensor norm)
    {
        Mark("reduce partials");
        _kernels.ReducePartials.Launch(Dim3.Covering(width, 32), 1024, 0, null, _partials.Pointer, (int)RowBlocks(rows), width, Gradients.At(norm.Offset));
    }

    // ---- helpers ----

    internal void Mark(string phase) => PhaseMarker?.Invoke(phase);

    private const int FlashThreads = 128;

    /// <summary>Tiles of 64 queries (or keys) that cover <paramref name="context"/> positions.</summary>
    private static int FlashTiles(int context) => (context + 63) / 64;

    private static long RowBlocks(long rows) => (rows + RowsPerBlock - 1) / RowsPerBlock;

    /// <summary>The block of a row kernel over rows of <paramref name="width"/>: a whole number of warps, each thread
    /// holding at most <see cref="RowValues"/> columns.</summary>
    private static int RowThreads(int width) => Math.Clamp(((width + RowValues - 1) / RowValues + 31) / 32 * 32, 32, 1024);

    private DevicePointer GammasOrNull => _shape.Quantized ? _gammas.Pointer : DevicePointer.Null;

    private DevicePointer ScalesOrNull(DeviceBuffer<float> scales) => _shape.Quantized ? scales.Pointer : DevicePointer.Null;

    private int Index(ParameterTensor tensor) => _tensorIndex[tensor.Name];

    /// <summary>The operand of a weight matrix: W̃ (or W), starting at the tensor's offset in the operand arena.</summary>
    private DevicePointer Weights(ParameterTensor tensor) => _weightOperands.At(tensor.Offset);

    private ulong DropoutKey(int site, int layer) => CounterHash.Derive(_dropoutKey, (ulong)((site * 100_003) + layer));

    /// <summary>The kernels' dropout of probability <paramref name="p"/>: the <see cref="DropoutThreshold"/> of p and
    /// the scale 1/(1−p); threshold 0 when dropout is off (p = 0, or not training).</summary>
    private (ulong Threshold, float Keep) DropoutParameters(double p)
    {
        if (!_training || p <= 0)
            return (0, 1f);
        return (DropoutThreshold.For(p), (float)(1.0 / (1.0 - p)));
    }

    /// <summary>The weights the values product reads, without flash attention: the layer's probabilities, or with
    /// attention dropout on, P ⊙ M / (1 − p) written into one buffer that every layer shares (the forward pass and the
    /// backward pass each write it again from the kept probabilities and the mask's key).</summary>
    private DevicePointer DroppedProbabilities(CudaLayerActivations a, int matrices, int layer, ulong threshold, float keep)
    {
        if (threshold == 0)
            return a.Probabilities.Pointer;
        int t = _shape.Context;
        long count = (long)matrices * t * t;
        _droppedProbabilities ??= Operands((long)BatchCapacity * _shape.Heads * t * t, a.Probabilities.ElementBytes);
        Mark("attention dropout");
        var arguments = new KernelArguments();
        arguments.Add(a.Probabilities.Pointer);
        arguments.Add(t);
        arguments.Add(count);
        AddAttentionDropout(ref arguments, layer, threshold, keep);
        arguments.Add(_droppedProbabilities.Pointer);
        _kernels.AttentionDropout.Launch(Dim3.Covering(count, Threads), Threads, 0, null, ref arguments);
        return _droppedProbabilities.Pointer;
    }

    /// <summary>The attention kernels' dropout arguments: the layer's mask key, the threshold and 1/(1−p).</summary>
    private void AddAttentionDropout(ref KernelArguments arguments, int layer, ulong threshold, float keep)
    {
        arguments.Add(DropoutKey(AttentionProbabilitySite, layer));
        arguments.Add(threshold);
        arguments.Add(keep);
    }

    /// <summary>The arguments both flash backward kernels start with: q, k, v, dO, the log-sum-exps, D, T, the scale and
    /// the attention dropout; each adds its outputs.</summary>
    private KernelArguments FlashBackwardArguments(CudaLayerActivations a, int layer, ulong threshold, float keep)
    {
        var arguments = new KernelArguments();
        arguments.Add(a.Query.Pointer);
        arguments.Add(a.Key.Pointer);
        arguments.Add(a.Value.Pointer);
        arguments.Add(_dOut.Pointer);
        arguments.Add(a.LogSumExp.Pointer);
        arguments.Add(_rowDots.Pointer);
        arguments.Add(_shape.Context);
        arguments.Add(_attentionScale);
        AddAttentionDropout(ref arguments, layer, threshold, keep);
        return arguments;
    }

    private void AddChunkTables(ref KernelArguments arguments)
    {
        arguments.Add(Chunks.Offsets.Pointer);
        arguments.Add(Chunks.Lengths.Pointer);
        arguments.Add(Chunks.Tensors.Pointer);
        arguments.Add(Chunks.TensorKinds.Pointer);
    }

    private void Gemm(int m, int n, int k, DevicePointer a, bool transposeA, DevicePointer b, bool transposeB, DevicePointer c, float beta = 0) =>
        _gemm.Multiply(new GemmDescription(m, n, k, _gemmPrecision, transposeA, transposeB), a, b, c, 1, beta);

    private void BatchedGemm(int batches, int m, int n, int k, DevicePointer a, bool transposeA, long strideA, DevicePointer b, bool transposeB,
        long strideB, DevicePointer c, long strideC, float alpha = 1) =>
        _gemm.Multiply(new GemmDescription(m, n, k, _gemmPrecision, transposeA, transposeB)
        {
            BatchCount = batches,
            BatchStrideA = strideA,
            BatchStrideB = strideB,
            BatchStrideC = strideC,
        }, a, b, c, alpha, 0);

    private void UploadBatch(ReadOnlySpan<int> tokens, ReadOnlySpan<int> targets, bool withGroups)
    {
        _tokens.Upload(tokens);
        if (!targets.IsEmpty)
            _targets.Upload(targets);
        if (!withGroups)
            return;
        _groups.Build(tokens);
        _rowOrder.Upload(_groups.RowOrder.AsSpan(0, tokens.Length));
        _groupStarts.Upload(_groups.GroupStarts.AsSpan(0, _groups.GroupCount + 1));
        _groupTokens.Upload(_groups.GroupTokens.AsSpan(0, _groups.GroupCount));
    }

    private void CheckBatch(ReadOnlySpan<int> tokens, ReadOnlySpan<int> targets, int batch, bool needTargets)
    {
        if (batch <= 0 || batch > BatchCapacity)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"the model holds batches of 1 to {BatchCapacity} sequences");
        int rows = batch * _shape.Context;
        if (tokens.Length != rows)
            throw new ArgumentException($"{tokens.Length} tokens for {batch} sequences of {_shape.Context}", nameof(tokens));
        foreach (int token in tokens)
        {
            if ((uint)token >= (uint)_shape.VocabularySize)
                throw new ArgumentOutOfRangeException(nameof(tokens), token, $"token id outside the vocabulary of {_shape.VocabularySize}");
        }

        if (!needTargets)
            return;
        if (targets.Length != rows)
            throw new ArgumentException($"{targets.Length} targets for {rows} tokens", nameof(targets));
        foreach (int target in targets)
        {
            if ((uint)target >= (uint)_shape.VocabularySize)
                throw new ArgumentOutOfRangeException(nameof(targets), target, $"target id outside the vocabulary of {_shape.VocabularySize}");
        }
    }

    private void RequireArena(int length)
    {
        if (length != Layout.Count)
            throw new ArgumentException($"{length} values for an arena of {Layout.Count} parameters");
    }

    /// <summary>The fused products need q, k, v (and gate, up) next to each other in the layout, as ParameterLayout puts them.</summary>
    private static void CheckAdjacent(ParameterLayout layout)
    {
        foreach (var p in layout.Layers)
        {
            if (p.Key.Offset != p.Query.Offset + p.Query.Length || p.Value.Offset != p.Key.Offset + p.Key.Length || p.Up.Offset != p.Gate.Offset + p.Gate.Length)
                throw new InvalidOperationException("the CUDA trainer needs q, k, v and gate, up adjacent in the parameter layout");
        }
    }

    private DeviceBuffer<float> Floats(long length) => _owned.Add(new DeviceBuffer<float>(Context, Math.Max(1, length)));

    private DeviceBuffer<int> Ints(long length) => _owned.Add(new DeviceBuffer<int>(Context, Math.Max(1, length)));

    private OperandBuffer Operands(long length, int elementBytes) => _owned.Add(new OperandBuffer(Context, length, elementBytes));

}
