using Tern.Conversion.Tokenizers;

namespace Tern.Training.Data;

/// <summary>
/// The vocabulary for training from scratch without a tokenizer: one token per byte, so any UTF-8 text is its own
/// token sequence, plus <c>&lt;|endoftext|&gt;</c> to mark the ends of documents. It is stored as a "gpt2"
/// (byte-level BPE) vocabulary with no merges, which llama.cpp and Tern's engine both read: the byte tokens are
/// spelled in GPT-2's byte-to-character table and typed NORMAL, because llama.cpp's byte-level decoder gives no
/// text for BYTE-typed tokens.
/// </summary>
public static class ByteVocabulary
{
    /// <summary>The one control token; it marks document ends and serves as BOS and EOS.</summary>
    public const string EndOfTextToken = "<|endoftext|>";

    public const int EndOfTextId = 256;

    public const int Size = 257;

    /// <summary>
    /// "default" splits the text at punctuation and then as GPT-2 does; without merges no split can join or cut a
    /// byte token, so it changes nothing for the ids, and it is the name llama.cpp accepts for a vocabulary that
    /// has no model-specific pre-tokenizer.
    /// </summary>
    public const string PreTokenizer = KnownPre.Default;

    /// <summary>A fresh copy of the vocabulary in the shape written to GGUF; BOS is not added to prompts.</summary>
    public static GgufTokenizerData Create()
    {
        var tokens = new string[Size];
        var types = new int[Size];
        for (int b = 0; b < 256; b++)
        {
            tokens[b] = ByteLevelEncoding.Encode((byte)b).ToString();
            types[b] = (int)GgufTokenType.Normal;
        }

        tokens[EndOfTextId] = EndOfTextToken;
        types[EndOfTextId] = (int)GgufTokenType.Control;

        return new GgufTokenizerData
        {
            Model = "gpt2",
            Pre = PreTokenizer,
            Tokens = tokens,
            TokenTypes = types,
            Merges = [],
            BosId = EndOfTextId,
            EosId = EndOfTextId,
            AddBos = false,
            AddEos = false,
        };
    }
}
