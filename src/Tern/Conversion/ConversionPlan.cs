using Tern.Gguf;

namespace Tern.Conversion;

/// <summary>What a conversion will write: metadata, tensors with their types, and notes for the user.</summary>
public sealed record ConversionPlan(IModelSource Source, GgufMetadata Metadata, IReadOnlyList<PlannedTensor> Tensors, IReadOnlyList<string> Notes)
{
    public long TensorBytes => Tensors.Sum(t => t.ByteSize);
}
