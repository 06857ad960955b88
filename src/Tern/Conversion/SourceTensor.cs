namespace Tern.Conversion;

/// <summary>
/// One tensor a model source offers, under its GGUF name and in ggml's shape order (Shape[0] is the row length).
/// Data is read a range of rows at a time, so that a converter never needs the whole tensor, let alone the model.
/// </summary>
public abstract class SourceTensor
{
    protected SourceTensor(string name, long[] shape, TensorRole role)
    {
        if (shape.Length == 0 || shape.Any(d => d <= 0))
            throw new ArgumentException($"tensor '{name}' has an invalid shape [{string.Join(", ", shape)}]", nameof(shape));
        Name = name;
        Shape = shape;
        Role = role;
    }

    public string Name { get; }

    /// <summary>ggml order: innermost (row length) first.</summary>
    public long[] Shape { get; }

    public TensorRole Role { get; }

    public long RowLength => Shape[0];

    public long ElementCount => Shape.Aggregate(1L, (a, b) => checked(a * b));

    public long RowCount => ElementCount / RowLength;

    /// <summary>Rows as float32 (for an exactly ternary source: value × scale).</summary>
    public abstract void ReadRows(long firstRow, int rowCount, Span<float> destination);

    /// <summary>True when the source stores exact ternary values and one scale (packed checkpoints, bitllama2.c).</summary>
    public virtual bool HasExactTernary => false;

    /// <summary>The per-tensor scale s of an exactly ternary source: W = s · W̃.</summary>
    public virtual float TernaryScale => throw new NotSupportedException($"tensor '{Name}' is not stored as ternary values");

    /// <summary>Rows of ternary values of an exactly ternary source.</summary>
    public virtual void ReadTernaryRows(long firstRow, int rowCount, Span<sbyte> destination) =>
        throw new NotSupportedException($"tensor '{Name}' is not stored as ternary values");
}
