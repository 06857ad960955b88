namespace Tern.Inference;

/// <summary>How a model is loaded.</summary>
public sealed record TernModelOptions
{
    /// <summary>Threads that compute the matrix products (the calling thread is one of them).</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;
}
