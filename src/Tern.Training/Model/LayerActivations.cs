using System.Numerics;
using Tern.Training.Layers;

namespace Tern.Training.Model;

/// <summary>What one block's forward pass keeps for its backward pass, for a batch of rows.</summary>
internal sealed class LayerActivations<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public LayerActivations(ModelShape shape, int batch)
    {
        int rows = batch * shape.Context, d = shape.Dim, q = shape.QueryDim, kv = shape.KeyValueDim, f = shape.FfnDim;
        bool quantized = shape.Quantized, sub = shape.Architecture.HasSubNorms();
        Input = new T[rows * d];
        AttentionNormRms = new T[rows];
        AttentionIn = new BitLinearInput<T>(rows, d, quantized);
        Query = new T[rows * q];
        Key = new T[rows * kv];
        Value = new T[rows * kv];
        Probabilities = new T[batch * shape.Heads * shape.Context * shape.Context];
        Attention = new T[rows * q];
        AttentionSubNormRms = sub ? new T[rows] : null;
        OutputIn = new BitLinearInput<T>(rows, q, quantized);
        Middle = new T[rows * d];
        FfnNormRms = new T[rows];
        FfnIn = new BitLinearInput<T>(rows, d, quantized);
        Gate = new T[rows * f];
        Up = new T[rows * f];
        Hidden = new T[rows * f];
        FfnSubNormRms = sub ? new T[rows] : null;
        DownIn = new BitLinearInput<T>(rows, f, quantized);
    }

    /// <summary>The residual stream entering the block.</summary>
    public T[] Input { get; }
    public T[] AttentionNormRms { get; }
    public BitLinearInput<T> AttentionIn { get; }

    /// <summary>Queries and keys after RoPE; values.</summary>
    public T[] Query { get; }
    public T[] Key { get; }
    public T[] Value { get; }
    public T[] Probabilities { get; }

    /// <summary>The attention output before the sub-norm.</summary>
    public T[] Attention { get; }
    public T[]? AttentionSubNormRms { get; }
    public BitLinearInput<T> OutputIn { get; }

    /// <summary>The residual stream between the attention and the FFN.</summary>
    public T[] Middle { get; }
    public T[] FfnNormRms { get; }
    public BitLinearInput<T> FfnIn { get; }
    public T[] Gate { get; }
    public T[] Up { get; }

    /// <summary>act(gate) ⊙ up, before the sub-norm.</summary>
    public T[] Hidden { get; }
    public T[]? FfnSubNormRms { get; }
    public BitLinearInput<T> DownIn { get; }
}
