namespace Tern.Training.Model;

/// <summary>One parameter matrix or vector: its GGUF name and where it lives in the arenas. Matrices are row-major
/// [Rows, Columns] = [out, in], as nn.Linear stores them and as GGUF's ne = [in, out] lays them out.</summary>
public sealed record ParameterTensor(string Name, ParameterKind Kind, long Offset, int Rows, int Columns)
{
    public long Length => (long)Rows * Columns;

    /// <summary>Decoupled weight decay applies to matrices and the embedding, not to norm weights.</summary>
    public bool Decays => Kind != ParameterKind.Norm;

    public Span<T> Slice<T>(T[] arena) => arena.AsSpan(checked((int)Offset), checked((int)Length));
}
