using Tern.Gguf;
using Tern.Quantization;
using Tern.Runtime;

namespace Tern.Models;

/// <summary>
/// A weight matrix y = W·x with W of <see cref="Rows"/> outputs × <see cref="Columns"/> inputs (GGUF shape
/// [Columns, Rows]). Ternary tensors compute as BitLinear layers (int8 activations); others in float.
/// </summary>
public abstract class WeightMatrix
{
    protected WeightMatrix(string name, int rows, int columns)
    {
        Name = name;
        Rows = rows;
        Columns = columns;
    }

    public string Name { get; }

    public int Rows { get; }

    public int Columns { get; }

    /// <summary>The threads that share the rows of a product; null or one thread computes alone.</summary>
    public WorkerPool? Pool { get; set; }

    /// <summary>Below this many rows a product is not worth handing to other threads.</summary>
    protected const int ParallelRows = 64;

    protected bool Parallel => Pool is { Threads: > 1 } && Rows >= ParallelRows;

    /// <summary>y = W·x; x has <see cref="Columns"/> elements, y <see cref="Rows"/>.</summary>
    public abstract void Multiply(ReadOnlySpan<float> x, Span<float> y);

    /// <summary>
    /// Y = W·X for <paramref name="tokens"/> tokens at once: token t's input at t·<see cref="Columns"/> of x, its
    /// output at t·<see cref="Rows"/> of y. Matrices that can reuse their weights across tokens override this.
    /// </summary>
    public virtual void Multiply(ReadOnlyMemory<float> x, Memory<float> y, int tokens)
    {
        for (int t = 0; t < tokens; t++)
            Multiply(x.Span.Slice(t * Columns, Columns), y.Span.Slice(t * Rows, Rows));
    }

    /// <summary>One row as floats (the embedding lookup).</summary>
    public virtual void CopyRow(int row, Span<float> destination) =>
        throw new NotSupportedException($"tensor '{Name}' cannot be read as rows of floats");

    /// <summary>Whether a matrix of this type has a kernel that reads its stored rows (no decoding at load).</summary>
    public static bool ComputesInPlace(GgmlType type, int columns) => type switch
    {
        GgmlType.F16 or GgmlType.BF16 => true,
        GgmlType.Q8_0 => columns % Q8_0Format.BlockSize == 0,
        GgmlType.Q6_K => columns % Q6_KFormat.BlockSize == 0,
        _ => false,
    };

    /// <summary>Bytes of one row of <paramref name="columns"/> weights of <paramref name="type"/>.</summary>
    public static int RowBytes(GgmlType type, int columns) => checked((int)TensorCodec.ByteSize(type, columns));

    /// <summary>A matrix of a type that <see cref="ComputesInPlace"/>, computed from its stored rows.</summary>
    public static WeightMatrix InPlace(GgmlType type, string name, int rows, int columns, MatrixBytes bytes) => type switch
    {
        GgmlType.F16 => new HalfWeightMatrix(name, rows, columns, bytes),
        GgmlType.BF16 => new BFloat16WeightMatrix(name, rows, columns, bytes),
        GgmlType.Q8_0 => new Q8_0WeightMatrix(name, rows, columns, bytes),
        GgmlType.Q6_K => new Q6_KWeightMatrix(name, rows, columns, bytes),
        _ => throw new NotSupportedException($"tensor '{name}': {GgmlTypeTraits.NameOf(type)} is not computed in place"),
    };

    /// <summary>Loads a 2-D tensor; ternary types become <see cref="TernaryWeightMatrix"/>, decodable ones float.</summary>
    public static WeightMatrix Load(GgufFile file, GgufTensorInfo tensor)
    {
        if (tensor.Shape.Length != 2)
            throw new InvalidDataException($"{file.Path}: tensor '{tensor.Name}' has {tensor.Shape.Length} dimensions; a matrix needs 2");
        int columns = checked((int)tensor.Shape[0]), rows = checked((int)tensor.Shape[1]);
        if (ComputesInPlace(tensor.Type, columns))
            return InPlace(tensor.Type, tensor.Name, rows, columns, MatrixBytes.InFile(file, tensor, RowBytes(tensor.Type, columns)));
        if (tensor.Type == GgmlType.I2_S && columns % Kernels.TernaryCodesDot.BlockWeights == 0)
            return TernaryWeightMatrix.FromMappedI2S(file, tensor, rows, columns);
        if (TernaryCodec.IsTernary(tensor.Type))
            return new TernaryWeightMatrix(tensor.Name, rows, columns, TernaryCodec.DecodeTernary(tensor.Type, file.ReadTensorData(tensor), tensor.ElementCount));
        if (!TensorCodec.CanDecode(tensor.Type))
            throw new NotSupportedException($"{file.Path}: tensor '{tensor.Name}' is {tensor.TypeInfo.Name}, which Tern cannot compute with");
        var values = new float[tensor.ElementCount];
        TensorCodec.Decode(tensor.Type, file.ReadTensorData(tensor), values);
        return new FloatWeightMatrix(tensor.Name, rows, columns, values);
    }
}
