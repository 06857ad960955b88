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

    /// <summary>Loads a 2-D tensor; ternary types become <see cref="TernaryWeightMatrix"/>, decodable ones float.</summary>
    public static WeightMatrix Load(GgufFile file, GgufTensorInfo tensor)
    {
        if (tensor.Shape.Length != 2)
            throw new InvalidDataException($"{file.Path}: tensor '{tensor.Name}' has {tensor.Shape.Length} dimensions; a matrix needs 2");
        int columns = checked((int)tensor.Shape[0]), rows = checked((int)tensor.Shape[1]);
        if (tensor.Type == GgmlType.F16)
            return new HalfWeightMatrix(file, tensor, rows, columns);
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
