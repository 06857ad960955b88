using Tern.Gguf;

namespace Tern.Conversion;

/// <summary>
/// A checkpoint to convert: the GGUF metadata it implies (architecture hyperparameters and tokenizer) and its
/// tensors under GGUF names. Sources open files lazily and read tensor data only when asked.
/// </summary>
public interface IModelSource : IDisposable
{
    /// <summary>What was read, for messages: "Hugging Face BitNetForCausalLM (packed ternary, 30 layers)".</summary>
    string Description { get; }

    /// <summary>Architecture and tokenizer keys; the converter adds general.file_type and the quantization version.</summary>
    GgufMetadata Metadata { get; }

    /// <summary>Tensors in the order they are written.</summary>
    IReadOnlyList<SourceTensor> Tensors { get; }

    /// <summary>Things the reader had to assume or chose to skip, each a sentence for the user.</summary>
    IReadOnlyList<string> Notes { get; }
}
