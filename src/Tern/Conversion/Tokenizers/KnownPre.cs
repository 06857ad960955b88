namespace Tern.Conversion.Tokenizers;

/// <summary>Values of tokenizer.ggml.pre that Tern can recognize (llama.cpp's names).</summary>
public static class KnownPre
{
    /// <summary>No model-specific pre-tokenizer: SentencePiece vocabularies, and GPT-2's split for "gpt2" ones.</summary>
    public const string Default = "default";

    /// <summary>Llama 3 (and BitNet b1.58 2B-4T, which uses its vocabulary).</summary>
    public const string Llama3 = "llama-bpe";
}
