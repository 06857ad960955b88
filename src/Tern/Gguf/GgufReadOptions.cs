namespace Tern.Gguf;

/// <summary>Options for <see cref="GgufFile.Open"/>.</summary>
public sealed record GgufReadOptions
{
    /// <summary>Forces the meaning of type ids 36–39 instead of deciding it from the file.</summary>
    public GgmlTypeDialect? Dialect { get; init; }
}
