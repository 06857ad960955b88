using System.Numerics;
using Tern.Runtime;
using Tern.Training.Layers;
using Tern.Training.Randomness;

namespace Tern.Training.Model;

/// <summary>
/// The model of docs/training.md with its forward and backward passes, for batches of up to
/// <see cref="BatchCapacity"/> sequences of exactly T tokens. Parameters and gradients are flat arenas in
/// <see cref="ParameterLayout"/>'s order. T is float for training and double for the gradient checks.
/// </summary>
public sealed class TrainingModel<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int EmbeddingSite = 0, AttentionSite = 1, FfnSite = 2, AttentionProbabilitySite = 3;

    private readonly ModelShape _shape;
    private readonly WorkerPool? _pool;
    private readonly T[] _ternary;
    private readonly T[] _gammas;
    private readonly LayerActivations<T>[] _layers;
    private readonly RotaryEmbedding<T> _rope;
    private readonly CausalAttention<T> _attention;
    private readonly SoftmaxCrossEntropy<T> _loss;
    private readonly T[] _x, _wide, _wide2, _narrow, _dx, _dWide, _dWide2, _dWide3, _scratch;
    private readonly T[] _finalInput, _finalRms, _headIn;
    private int[] _tokens = [];
    private int _batch;
    private ulong _dropoutKey;
    private bool _training;

    public TrainingModel(ParameterLayout layout, int batchCapacity, WorkerPool? pool = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchCapacity);
        Layout = layout;
        _shape = layout.Shape;
        _pool = pool;
        BatchCapacity = batchCapacity;
        Parameters = new T[layout.Count];
        Gradients = new T[layout.Count];
        _ternary = _shape.Quantized ? new T[layout.Count] : [];
        _gammas = new T[layout.Tensors.Count];
        int rows = batchCapacity * _shape.Context, d = _shape.Dim;
        int widest = Math.Max(Math.Max(d, _shape.QueryDim), _shape.FfnDim);
        _layers = new LayerActivations<T>[_shape.Layers];
        for (int l = 0; l < _layers.Length; l++)
            _layers[l] = new LayerActivations<T>(_shape, batchCapacity);
        _rope = new RotaryEmbedding<T>(_shape.HeadDim, _shape.Context, _shape.RopeTheta, _shape.Architecture.RotatesHalves());
        _attention = new CausalAttention<T>(_shape.Heads, _shape.KeyValueHeads, _shape.HeadDim, _shape.Context);
        _loss = new SoftmaxCrossEntropy<T>(_shape.VocabularySize, d);
        _x = new T[rows * d];
        _narrow = new T[rows * d];
        _wide = new T[rows * widest];
        _wide2 = new T[rows * widest];
        _dx = new T[rows * d];
        _dWide = new T[rows * widest];
        _dWide2 = new T[rows * widest];
        _dWide3 = new T[rows * widest];
        _scratch = new T[rows * widest];
        _finalInput = new T[rows * d];
        _finalRms = new T[rows];
        _headIn = new T[rows * d];
    }

    public ParameterLayout Layout { get; }

    public int BatchCapacity { get; }

    public T[] Parameters { get; }

    public T[] Gradients { get; }

    /// <summary>Dropout probability during <see cref="ForwardBackward"/> (never during evaluation).</summary>
    public double DropoutProbability { get; set; }

    /// <summary>Dropout probability of the attention weights during <see cref="ForwardBackward"/> (never during evaluation).</summary>
    public double AttentionDropoutProbability { get; set; }

    /// <summary>Runs a batch forward and backward; gradients are added to <see cref="Gradients"/>. Returns the mean loss.</summary>
    public double ForwardBackward(ReadOnlySpan<int> tokens, ReadOnlySpan<int> targets, int batch, ulong dropoutKey = 0)
    {
        int[] targetIds = CheckBatch(tokens, targets, batch);
        _training = true;
        _dropoutKey = dropoutKey;
        Forward(tokens, batch);
        int rows = batch * _shape.Context;
        var head = Layout.Output;
        double loss = _loss.Run(_pool, _headIn, rows, targetIds, Parameters, (int)head.Offset, _narrow, Gradients, (int)head.Offset);
        Backward(_narrow);
        return loss;
    }

    /// <summary>The mean loss of a batch without dropout and without gradients.</summary>
    public double Evaluate(ReadOnlySpan<int> tokens, ReadOnlySpan<int> targets, int batch)
    {
        int[] targetIds = CheckBatch(tokens, targets, batch);
        _training = false;
        Forward(tokens, batch);
        return _loss.Run(_pool, _headIn, batch * _shape.Context, targetIds, Parameters, (int)Layout.Output.Offset, null, null, 0);
    }

    /// <summary>The logits [batch·T, V] of every position, without dropout.</summary>
    public void ComputeLogits(ReadOnlySpan<int> tokens, int batch, T[] logits)
    {
        CheckBatch(tokens, null, batch);
        _training = false;
        Forward(tokens, batch);
        _loss.Logits(_pool, _headIn, batch * _shape.Context, Parameters, (int)Layout.Output.Offset, logits);
    }

    /// <summary>The ternary values W̃ and scale γ the last forward pass used for a BitLinear weight.</summary>
    public (T[] Ternary, T Gamma) QuantizedWeights(ParameterTensor tensor)
    {
        if (tensor.Kind != ParameterKind.Linear || !_shape.Quantized)
            throw new InvalidOperationException($"'{tensor.Name}' is not quantized");
        QuantizeWeights();
        return (tensor.Slice(_ternary).ToArray(), _gammas[IndexOf(tensor)]);
    }

    private int[] CheckBatch(ReadOnlySpan<int> tokens, ReadOnlySpan<int> targets, int batch)
    {
        if (batch <= 0 || batch > BatchCapacity)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"the model holds batches of 1 to {BatchCapacity} sequences");
        int rows = batch * _shape.Context;
        if (tokens.Length != rows)
            throw new ArgumentException($"{tokens.Length} tokens for {batch} sequences of {_shape.Context}", nameof(tokens));
        foreach (int t in tokens)
        {
            if ((uint)t >= (uint)_shape.VocabularySize)
                throw new ArgumentOutOfRangeException(nameof(tokens), t, $"token id outside the vocabulary of {_shape.VocabularySize}");
        }

        if (targets.IsEmpty)
            return [];
        if (targets.Length != rows)
            throw new ArgumentException($"{targets.Length} targets for {rows} tokens", nameof(targets));
        foreach (int t in targets)
        {
            if ((uint)t >= (uint)_shape.VocabularySize)
                throw new ArgumentOutOfRangeException(nameof(targets), t, $"target id outside the vocabulary of {_shape.VocabularySize}");
        }

        return targets.ToArray();
    }

    private int IndexOf(ParameterTensor tensor)
    {
        for (int i = 0; i < Layout.Tensors.Count; i++)
        {
            if (ReferenceEquals(Layout.Tensors[i], tensor))
                return i;
        }

        throw new ArgumentException($"'{tensor.Name}' is not in this model's layout", nameof(tensor));
    }

    private void QuantizeWeights()
    {
        if (!_shape.Quantized)
            return;
        var tensors = Layout.Tensors;
        ParallelRanges.For(_pool, tensors.Count, (start, end) =>
        {
            for (int i = start; i < end; i++)
            {
                if (tensors[i].Kind == ParameterKind.Linear)
                    _gammas[i] = BitLinear.QuantizeWeights<T>(tensors[i].Slice(Parameters), tensors[i].Slice(_ternary));
            }
        });
    }

    /// <summary>W̃ and γ with quantization on; W and 1 with it off.</summary>
    private (T[] Weights, int Offset, T Gamma) Weight(ParameterTensor tensor) =>
        _shape.Quantized ? (_ternary, (int)tensor.Offset, _gammas[IndexOf(tensor)]) : (Parameters, (int)tensor.Offset, T.One);

    private void Linear(BitLinearInput<T> input, int rows, ParameterTensor tensor, T[] output)
    {
        var (w, offset, gamma) = Weight(tensor);
        BitLinear.Forward(_pool, input, rows, w, offset, gamma, tensor.Rows, output);
    }

    private void LinearBackward(T[] dy, int rows, ParameterTensor tensor, BitLinearInput<T> input, T[] dx, bool accumulate)
    {
        var (w, offset, gamma) = Weight(tensor);
        BitLinear.BackwardInput(_pool, dy, rows, tensor.Rows, w, offset, gamma, tensor.Columns, dx, accumulate, _scratch);
        BitLinear.BackwardWeights(_pool, dy, rows, tensor.Rows, input, Gradients, (int)tensor.Offset, _scratch);
    }

    private ulong DropoutKey(int site, int layer) => CounterHash.Derive(_dropoutKey, (ulong)((site * 100_003) + layer));

    private void ApplyDropout(T[] x, int count, int site, int layer)
    {
        if (_training)
            Dropout.Apply(_pool, x, count, DropoutProbability, DropoutKey(site, layer));
    }

    /// <summary>Layer <paramref name="layer"/>'s attention-weight mask: off outside training or with p = 0.</summary>
    private AttentionDropout AttentionMask(int layer) =>
        _training && AttentionDropoutProbability > 0
            ? new AttentionDropout(AttentionDropoutProbability, DropoutKey(AttentionProbabilitySite, layer))
            : default;

    private void Forward(ReadOnlySpan<int> tokens, int batch)
    {
        QuantizeWeights();
        _batch = batch;
        _tokens = tokens.ToArray();
        int rows = batch * _shape.Context, d = _shape.Dim, f = _shape.FfnDim;
        T eps = T.CreateChecked(_shape.NormEpsilon);
        var embedding = Layout.TokenEmbedding.Slice(Parameters);
        for (int r = 0; r < rows; r++)
            embedding.Slice(_tokens[r] * d, d).CopyTo(_x.AsSpan(r * d, d));
        ApplyDropout(_x, rows * d, EmbeddingSite, 0);

        for (int l = 0; l < _shape.Layers; l++)
        {
            var p = Layout.Layers[l];
            var a = _layers[l];
            _x.AsSpan(0, rows * d).CopyTo(a.Input);
            RmsNorm.Forward(_pool, _x, Parameters, (int)p.AttentionNorm.Offset, rows, d, eps, _narrow, a.AttentionNormRms);
            BitLinear.Prepare(_pool, _narrow, rows, a.AttentionIn);
            Linear(a.AttentionIn, rows, p.Query, a.Query);
            Linear(a.AttentionIn, rows, p.Key, a.Key);
            Linear(a.AttentionIn, rows, p.Value, a.Value);
            _rope.Forward(_pool, a.Query, rows, _shape.QueryDim);
            _rope.Forward(_pool, a.Key, rows, _shape.KeyValueDim);
            _attention.Forward(_pool, batch, a.Query, a.Key, a.Value, a.Probabilities, a.Attention, AttentionMask(l));
            if (p.AttentionSubNorm is { } attnSub)
            {
                RmsNorm.Forward(_pool, a.Attention, Parameters, (int)attnSub.Offset, rows, _shape.QueryDim, eps, _wide, a.AttentionSubNormRms!);
                BitLinear.Prepare(_pool, _wide, rows, a.OutputIn);
            }
            else
            {
                BitLinear.Prepare(_pool, a.Attention, rows, a.OutputIn);
            }

            Linear(a.OutputIn, rows, p.AttentionOutput, _narrow);
            ApplyDropout(_narrow, rows * d, AttentionSite, l);
            AddInto(_x, _narrow, rows * d);

            _x.AsSpan(0, rows * d).CopyTo(a.Middle);
            RmsNorm.Forward(_pool, _x, Parameters, (int)p.FfnNorm.Offset, rows, d, eps, _narrow, a.FfnNormRms);
            BitLinear.Prepare(_pool, _narrow, rows, a.FfnIn);
            Linear(a.FfnIn, rows, p.Gate, a.Gate);
            Linear(a.FfnIn, rows, p.Up, a.Up);
            GatedActivation.Forward(_pool, _shape.Architecture.HasSubNorms(), a.Gate, a.Up, rows * f, a.Hidden);
            if (p.FfnSubNorm is { } ffnSub)
            {
                RmsNorm.Forward(_pool, a.Hidden, Parameters, (int)ffnSub.Offset, rows, f, eps, _wide, a.FfnSubNormRms!);
                BitLinear.Prepare(_pool, _wide, rows, a.DownIn);
            }
            else
            {
                BitLinear.Prepare(_pool, a.Hidden, rows, a.DownIn);
            }

            Linear(a.DownIn, rows, p.Down, _narrow);
            ApplyDropout(_narrow, rows * d, FfnSite, l);
            AddInto(_x, _narrow, rows * d);
        }

        _x.AsSpan(0, rows * d).CopyTo(_finalInput);
        RmsNorm.Forward(_pool, _x, Parameters, (int)Layout.OutputNorm.Offset, rows, d, eps, _headIn, _finalRms);
    }

    /// <summary>From the gradient of the head's input back to the embedding.</summary>
    private void Backward(T[] dHeadIn)
    {
        int rows = _batch * _shape.Context, d = _shape.Dim, q = _shape.QueryDim, f = _shape.FfnDim;
        bool reluSquared = _shape.Architecture.HasSubNorms();
        RmsNorm.Backward(_pool, _finalInput, Parameters, (int)Layout.OutputNorm.Offset, _finalRms, dHeadIn, rows, d, _dx, Gradients, (int)Layout.OutputNorm.Offset);

        for (int l = _shape.Layers - 1; l >= 0; l--)
        {
            var p = Layout.Layers[l];
            var a = _layers[l];

            // FFN: x_out = middle + dropout(down(...)).
            _dx.AsSpan(0, rows * d).CopyTo(_narrow);
            ApplyDropout(_narrow, rows * d, FfnSite, l);
            LinearBackward(_narrow, rows, p.Down, a.DownIn, _dWide, accumulate: false);
            if (p.FfnSubNorm is { } ffnSub)
            {
                RmsNorm.Backward(_pool, a.Hidden, Parameters, (int)ffnSub.Offset, a.FfnSubNormRms!, _dWide, rows, f, _dWide2, Gradients, (int)ffnSub.Offset);
                _dWide2.AsSpan(0, rows * f).CopyTo(_dWide);
            }

            GatedActivation.Backward(_pool, reluSquared, a.Gate, a.Up, _dWide, rows * f, _dWide2, _dWide3);
            LinearBackward(_dWide2, rows, p.Gate, a.FfnIn, _narrow, accumulate: false);
            LinearBackward(_dWide3, rows, p.Up, a.FfnIn, _narrow, accumulate: true);
            RmsNorm.Backward(_pool, a.Middle, Parameters, (int)p.FfnNorm.Offset, a.FfnNormRms, _narrow, rows, d, _wide, Gradients, (int)p.FfnNorm.Offset);
            AddInto(_dx, _wide, rows * d);

            // Attention: middle = input + dropout(output(...)).
            _dx.AsSpan(0, rows * d).CopyTo(_narrow);
            ApplyDropout(_narrow, rows * d, AttentionSite, l);
            LinearBackward(_narrow, rows, p.AttentionOutput, a.OutputIn, _dWide, accumulate: false);
            if (p.AttentionSubNorm is { } attnSub)
            {
                RmsNorm.Backward(_pool, a.Attention, Parameters, (int)attnSub.Offset, a.AttentionSubNormRms!, _dWide, rows, q, _dWide2, Gradients, (int)attnSub.Offset);
                _dWide2.AsSpan(0, rows * q).CopyTo(_dWide);
            }

            int kv = _shape.KeyValueDim;
            var dq = _dWide2;
            var dk = _dWide3;
            var dv = _wide2;
            _attention.Backward(_pool, _batch, a.Query, a.Key, a.Value, a.Probabilities, _dWide, dq, dk, dv, AttentionMask(l));
            _rope.Backward(_pool, dq, rows, q);
            _rope.Backward(_pool, dk, rows, kv);
            LinearBackward(dq, rows, p.Query, a.AttentionIn, _narrow, accumulate: false);
            LinearBackward(dk, rows, p.Key, a.AttentionIn, _narrow, accumulate: true);
            LinearBackward(dv, rows, p.Value, a.AttentionIn, _narrow, accumulate: true);
            RmsNorm.Backward(_pool, a.Input, Parameters, (int)p.AttentionNorm.Offset, a.AttentionNormRms, _narrow, rows, d, _wide, Gradients, (int)p.AttentionNorm.Offset);
            AddInto(_dx, _wide, rows * d);
        }

        ApplyDropout(_dx, rows * d, EmbeddingSite, 0);
        var dEmbedding = Layout.TokenEmbedding.Slice(Gradients);
        for (int r = 0; r < rows; r++)
        {
            var target = dEmbedding.Slice(_tokens[r] * d, d);
            var source = _dx.AsSpan(r * d, d);
            for (int i = 0; i < d; i++)
                target[i] += source[i];
        }
    }

    private void AddInto(T[] target, T[] source, int count) =>
        ParallelRanges.For(_pool, count, (start, end) =>
        {
            for (int i = start; i < end; i++)
                target[i] += source[i];
        });
}
