using Tern.Cuda;
using Tern.Training.Model;

namespace Tern.Training.Cuda;

/// <summary>
/// What one block's forward pass keeps on the device for its backward pass (the CUDA counterpart of
/// LayerActivations): the operands the products read (quantized activations with their row scales, or the
/// activations themselves), the reciprocal RMS of each norm, head-major queries, keys, values and attention
/// probabilities, and the residual stream between the attention and the FFN. The stream entering the block is the
/// model's residual buffer of that layer.
/// </summary>
internal sealed class CudaLayerActivations : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    public CudaLayerActivations(CudaContext context, ModelShape shape, int batch, int operandBytes, bool flashAttention)
    {
        long rows = (long)batch * shape.Context, d = shape.Dim, q = shape.QueryDim, f = shape.FfnDim;
        long headMajor = (long)batch * shape.Heads * shape.Context * shape.HeadDim;
        bool sub = shape.Architecture.HasSubNorms();
        DeviceBuffer<float> Floats(long n) => Own(new DeviceBuffer<float>(context, Math.Max(1, n)));
        OperandBuffer Operands(long n) => Own(new OperandBuffer(context, n, operandBytes));

        AttentionRms = Floats(rows);
        AttentionIn = Operands(rows * d);
        AttentionInScales = Floats(rows);
        Query = Operands(headMajor);
        Key = Operands(headMajor);
        Value = Operands(headMajor);
        Probabilities = Operands(flashAttention ? 1 : (long)batch * shape.Heads * shape.Context * shape.Context);
        LogSumExp = Floats(flashAttention ? (long)batch * shape.Heads * shape.Context : 1);
        Attention = Floats(rows * q);
        AttentionSubRms = Floats(sub ? rows : 1);
        OutputIn = Operands(rows * q);
        OutputInScales = Floats(rows);
        Middle = Floats(rows * d);
        FfnRms = Floats(rows);
        FfnIn = Operands(rows * d);
        FfnInScales = Floats(rows);
        GateUp = Floats(rows * 2 * f);
        FfnSubRms = Floats(sub ? rows : 1);
        DownIn = Operands(rows * f);
        DownInScales = Floats(rows);
    }

    public DeviceBuffer<float> AttentionRms { get; }
    public OperandBuffer AttentionIn { get; }
    public DeviceBuffer<float> AttentionInScales { get; }

    /// <summary>After RoPE, [batch, H, T, hd]; keys and values repeated for each query head of their group.</summary>
    public OperandBuffer Query { get; }
    public OperandBuffer Key { get; }
    public OperandBuffer Value { get; }

    /// <summary>[batch, H, T, T], zero above the diagonal; the backward pass overwrites them with the score gradients.
    /// Only without flash attention.</summary>
    public OperandBuffer Probabilities { get; }

    /// <summary>With flash attention: each query's log Σ exp(scaled scores), [batch, H, T], from which the backward
    /// pass recomputes the probabilities.</summary>
    public DeviceBuffer<float> LogSumExp { get; }

    /// <summary>The attention output before the sub-norm, rows [batch·T, H·hd].</summary>
    public DeviceBuffer<float> Attention { get; }
    public DeviceBuffer<float> AttentionSubRms { get; }
    public OperandBuffer OutputIn { get; }
    public DeviceBuffer<float> OutputInScales { get; }
    public DeviceBuffer<float> Middle { get; }
    public DeviceBuffer<float> FfnRms { get; }
    public OperandBuffer FfnIn { get; }
    public DeviceBuffer<float> FfnInScales { get; }

    /// <summary>Gate and up projections, [rows, 2F], as the product left them (before their γ/s scaling): the
    /// kernels recompute the scaled values and act(gate) ⊙ up from them.</summary>
    public DeviceBuffer<float> GateUp { get; }
    public DeviceBuffer<float> FfnSubRms { get; }
    public OperandBuffer DownIn { get; }
    public DeviceBuffer<float> DownInScales { get; }

    public void Dispose()
    {
        foreach (var buffer in _owned)
            buffer.Dispose();
        _owned.Clear();
    }

    private T Own<T>(T buffer)
        where T : IDisposable
    {
        _owned.Add(buffer);
        return buffer;
    }
}
