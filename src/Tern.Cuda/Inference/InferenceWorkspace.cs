using Tern.Cuda.Interop;

namespace Tern.Cuda.Inference;

/// <summary>
/// The device memory a forward pass works in, shared by a model's sessions (one computes at a time, as on the CPU):
/// the residual stream, the norms' float and int8 outputs, the projections' outputs, the logits, the position a
/// call starts at, and the scratch of the int8 tensor-core products; page-locked staging for what crosses to and
/// from the host. Only the KV cache (and the decoding graph that points into it) belongs to a session.
/// </summary>
internal sealed unsafe class InferenceWorkspace : IDisposable
{
    private readonly OwnedResources _owned = new();
    private readonly CublasGemm _gemm;
    private readonly DeviceBuffer<sbyte>? _unpacked;
    private readonly DeviceBuffer<int>? _products;
    private bool _integerProducts = true;

    public InferenceWorkspace(CudaContext context, CudaInferenceKernels kernels, WorkspaceShape shape)
    {
        Context = context;
        Kernels = kernels;
        Shape = shape;
        try
        {
            Stream = _owned.Add(new CudaStream(context));
            _gemm = _owned.Add(new CublasGemm(context));
            int n = shape.Tokens;
            Hidden = _owned.Add(new DeviceBuffer<float>(context, (long)n * shape.Embedding));
            Normed = _owned.Add(new DeviceBuffer<float>(context, (long)n * shape.WidestInput));
            Quantized = _owned.Add(new DeviceBuffer<sbyte>(context, (long)n * DeviceTernaryMatrix.PaddedColumns(shape.WidestInput)));
            QuantizedScales = _owned.Add(new DeviceBuffer<float>(context, n));
            Queries = _owned.Add(new DeviceBuffer<float>(context, (long)n * shape.Query));
            Keys = _owned.Add(new DeviceBuffer<float>(context, (long)n * shape.KeyValue));
            Values = _owned.Add(new DeviceBuffer<float>(context, (long)n * shape.KeyValue));
            AttentionOutput = _owned.Add(new DeviceBuffer<float>(context, (long)n * shape.Query));
            Gate = _owned.Add(new DeviceBuffer<float>(context, (long)n * shape.FeedForward));
            Up = _owned.Add(new DeviceBuffer<float>(context, (long)n * shape.FeedForward));
            Activated = _owned.Add(new DeviceBuffer<float>(context, (long)n * shape.FeedForward));
            Scratch = _owned.Add(new DeviceBuffer<float>(context, (long)n * Math.Max(shape.WidestInput, shape.WidestOutput)));
            Logits = _owned.Add(new DeviceBuffer<float>(context, (long)CudaInferenceKernels.MatvecTokens * shape.Vocabulary));
            Step = _owned.Add(new DeviceBuffer<int>(context, 2));
            StagedHidden = _owned.Add(new PinnedBuffer<float>(context, n * shape.Embedding));
            StagedStep = _owned.Add(new PinnedBuffer<int>(context, 2));
            StagedLogits = _owned.Add(new PinnedBuffer<float>(context, CudaInferenceKernels.MatvecTokens * shape.Vocabulary));
            StagedRows = _owned.Add(new PinnedBuffer<float>(context, n * Math.Max(shape.WidestInput, shape.WidestOutput)));
            ArgMax = _owned.Add(new DeviceArgMax(context, kernels.ArgMax));
            StagedToken = _owned.Add(new PinnedBuffer<int>(context, 1));
            if (shape.LargestTernary > 0)
            {
                _unpacked = _owned.Add(new DeviceBuffer<sbyte>(context, shape.LargestTernary));
                _products = _owned.Add(new DeviceBuffer<int>(context, (long)n * shape.WidestOutput));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public CudaContext Context { get; }

    public CudaInferenceKernels Kernels { get; }

    public WorkspaceShape Shape { get; }

    public CudaStream Stream { get; } = null!;

    public DeviceBuffer<float> Hidden { get; } = null!;
    public DeviceBuffer<float> Normed { get; } = null!;
    public DeviceBuffer<sbyte> Quantized { get; } = null!;
    public DeviceBuffer<float> QuantizedScales { get; } = null!;
    public DeviceBuffer<float> Queries { get; } = null!;
    public DeviceBuffer<float> Keys { get; } = null!;
    public DeviceBuffer<float> Values { get; } = null!;
    public DeviceBuffer<float> AttentionOutput { get; } = null!;
    public DeviceBuffer<float> Gate { get; } = null!;
    public DeviceBuffer<float> Up { get; } = null!;
    public DeviceBuffer<float> Activated { get; } = null!;

    /// <summary>Products the device computes for host blocks (<see cref="DeviceComputedMatrix"/>).</summary>
    public DeviceBuffer<float> Scratch { get; } = null!;
    public DeviceBuffer<float> Logits { get; } = null!;
    /// <summary>The position of a call's first token, then the counter of decode_step's grid barrier (zero at each step).</summary>
    public DeviceBuffer<int> Step { get; } = null!;
    public PinnedBuffer<float> StagedHidden { get; } = null!;
    public PinnedBuffer<int> StagedStep { get; } = null!;
    public PinnedBuffer<float> StagedLogits { get; } = null!;
    public PinnedBuffer<float> StagedRows { get; } = null!;

    /// <summary>Greedy decoding's pick from the logits, computed on the device.</summary>
    public DeviceArgMax ArgMax { get; } = null!;

    /// <summary>The token a greedy decoding step hands back in place of the logits.</summary>
    public PinnedBuffer<int> StagedToken { get; } = null!;

    /// <summary>Why prompts fell back from the int8 tensor-core product to the matrix-vector kernel, or null.</summary>
    public string? IntegerProductFailure { get; private set; }

    /// <summary>
    /// y = codes·q on the tensor cores for a prompt: the codes unpacked to int8, cuBLASLt's exact int8 product into
    /// int32, then y = dot·(γ/s) (scale_products). False when cuBLASLt has no int8 algorithm here; the caller then
    /// uses the matrix-vector kernel, which gives the same numbers.
    /// </summary>
    public bool TryIntegerProduct(DeviceTernaryMatrix matrix, DevicePointer codes, MatrixInput input, int tokens, float gamma, DevicePointer y, bool accumulate)
    {
        if (!_integerProducts || _unpacked is null || _products is null)
            return false;
        int padded = matrix.Groups * 64;
        long words = (long)matrix.Rows * padded / 16;
        var unpack = new KernelArguments();
        unpack.Add(codes);
        unpack.Add(words);
        unpack.Add(_unpacked.Pointer);
        Kernels.TernaryUnpack.Launch(Dim3.Covering(words, 256), 256, 0, Stream, ref unpack);
        var gemm = new GemmDescription(tokens, matrix.Rows, padded, GemmPrecision.Int8, TransposeB: true) { LeadingDimensionA = input.QuantizedStride };
        try
        {
            _gemm.Multiply(gemm, input.Quantized, _unpacked.Pointer, _products.Pointer, 1, 0, Stream);
        }
        catch (Exception e) when (e is NotSupportedException or CudaException)
        {
            _integerProducts = false;
            IntegerProductFailure = $"{matrix.Name}: {e.Message}";
            return false;
        }

        var scale = new KernelArguments();
        scale.Add(_products.Pointer);
        scale.Add(tokens);
        scale.Add(matrix.Rows);
        scale.Add(gamma);
        scale.Add(input.Scales);
        scale.Add(y);
        scale.Add(matrix.Rows);
        scale.Add(accumulate ? 1 : 0);
        Kernels.ScaleProducts.Launch(Dim3.Covering((long)tokens * matrix.Rows, 256), 256, 0, Stream, ref scale);
        return true;
    }

    /// <summary>
    /// Queues a host block's input [tokens, width] up to <see cref="Normed"/> and its quantization (rmsnorm_quantize
    /// without a norm weight), and returns it as a matrix input.
    /// </summary>
    public MatrixInput StageInput(ReadOnlySpan<float> x, int tokens, int width)
    {
        Stream.Synchronize();
        x[..(tokens * width)].CopyTo(StagedRows.Span);
        StagedRows.CopyToDevice(Normed.Pointer, 0, tokens * width, Stream);
        return NormQuantize(Normed.Pointer, DevicePointer.Null, width, 0f, tokens);
    }

    /// <summary>
    /// Queues rmsnorm_quantize of [tokens, width] floats at <paramref name="x"/> with <paramref name="weight"/>
    /// (null: quantize only) into <see cref="Normed"/> and <see cref="Quantized"/>.
    /// </summary>
    public MatrixInput NormQuantize(DevicePointer x, DevicePointer weight, int width, float epsilon, int tokens)
    {
        int stride = DeviceTernaryMatrix.PaddedColumns(width);
        var arguments = new KernelArguments();
        arguments.Add(x);
        arguments.Add(weight);
        arguments.Add(width);
        arguments.Add(epsilon);
        arguments.Add(Normed.Pointer);
        arguments.Add(Quantized.Pointer);
        arguments.Add(stride);
        arguments.Add(QuantizedScales.Pointer);
        Kernels.RmsNormQuantize.Launch(tokens, 256, CudaInferenceKernels.NormChunkBytes(width), Stream, ref arguments);
        return new MatrixInput(Normed.Pointer, Quantized.Pointer, QuantizedScales.Pointer, stride);
    }

    /// <summary>Copies device floats to the host after everything queued so far.</summary>
    public void Download(DevicePointer source, Span<float> destination)
    {
        Stream.Synchronize();
        Context.MakeCurrent();
        fixed (float* data = destination)
            CudaDriver.MemcpyDtoH(data, source.Address, (long)destination.Length * 4);
    }

    /// <summary>Queues y = rows (or y += rows) for a product the host computed: [tokens, width] floats.</summary>
    public void AddOrSet(ReadOnlySpan<float> rows, int tokens, int width, DevicePointer y, bool accumulate)
    {
        int count = tokens * width;
        Stream.Synchronize();
        rows[..count].CopyTo(StagedRows.Span);
        if (!accumulate)
        {
            StagedRows.CopyToDevice(y, 0, count, Stream);
            return;
        }

        StagedRows.CopyToDevice(Scratch.Pointer, 0, count, Stream);
        var arguments = new KernelArguments();
        arguments.Add(Scratch.Pointer);
        arguments.Add(tokens);
        arguments.Add(width);
        arguments.Add(y);
        arguments.Add(width);
        Kernels.AddRows.Launch(Dim3.Covering(count, 256), 256, 0, Stream, ref arguments);
    }


    public void Dispose()
    {
        _owned.Dispose();
    }
}

/// <summary>The sizes a <see cref="InferenceWorkspace"/> is allocated for.</summary>
/// <param name="Tokens">Tokens of one call.</param>
/// <param name="WidestInput">The widest matrix input (model width, query width or FFN width).</param>
/// <param name="WidestOutput">The most rows of a matrix the device computes (or the host computes for it) in a block.</param>
/// <param name="LargestTernary">Bytes of the largest ternary matrix unpacked to int8 (0: none on the device).</param>
internal readonly record struct WorkspaceShape(int Tokens, int Embedding, int Query, int KeyValue, int FeedForward, int Vocabulary,
    int WidestInput, int WidestOutput, long LargestTernary);
