namespace Tern.Conversion.Tokenizers;

/// <summary>The kinds of tokenizer file a model folder can offer.</summary>
public enum TokenizerSourceKind
{
    /// <summary>Hugging Face tokenizer.json.</summary>
    HuggingFaceJson,

    /// <summary>SentencePiece tokenizer.model (protobuf).</summary>
    SentencePiece,

    /// <summary>tiktoken rank file named tokenizer.model (Llama 3).</summary>
    Tiktoken,
}
