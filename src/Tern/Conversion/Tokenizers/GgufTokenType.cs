namespace Tern.Conversion.Tokenizers;

/// <summary>
/// llama.cpp's token types as stored in tokenizer.ggml.token_type (gguf-py TokenType / llama_token_type).
/// SentencePiece's own enum happens to use the same numbers for all six, but converters map them by meaning,
/// not by number (USER_DEFINED pieces, for one, become NORMAL in llama.cpp's SentencePiece path).
/// </summary>
public enum GgufTokenType
{
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
}
