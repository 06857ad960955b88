using Tern.Gguf;

namespace Tern.Conversion;

/// <summary>A tensor as it will be written: its source, the chosen type and its size in the file.</summary>
public sealed record PlannedTensor(SourceTensor Source, GgmlType Type, long ByteSize);
