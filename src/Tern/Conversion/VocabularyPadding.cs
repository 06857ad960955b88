using Tern.Conversion.Tokenizers;

namespace Tern.Conversion;

/// <summary>
/// Embedding matrices are often padded past the tokenizer (1bitLLM: 32,002 rows for 32,000 pieces). llama.cpp pads
/// the vocabulary to match with "[PAD1]…" tokens of type UNUSED and score −1000 (convert_hf_to_gguf.py,
/// _set_vocab_sentencepiece); a tokenizer larger than the embedding is an error.
/// </summary>
public static class VocabularyPadding
{
    public static GgufTokenizerData PadTo(GgufTokenizerData data, int vocabSize, string origin)
    {
        int have = data.Tokens.Length;
        if (have == vocabSize)
            return data;
        if (have > vocabSize)
            throw new InvalidDataException($"{origin}: the tokenizer has {have} tokens but the embedding only {vocabSize} rows");

        int pad = vocabSize - have;
        var tokens = new string[vocabSize];
        var types = new int[vocabSize];
        data.Tokens.CopyTo(tokens, 0);
        data.TokenTypes.CopyTo(types, 0);
        float[]? scores = null;
        if (data.Scores is { } s)
        {
            scores = new float[vocabSize];
            s.CopyTo(scores, 0);
        }

        for (int i = 0; i < pad; i++)
        {
            tokens[have + i] = $"[PAD{i + 1}]";
            types[have + i] = (int)GgufTokenType.Unused;
            if (scores is not null)
                scores[have + i] = -1000f;
        }

        return data with
        {
            Tokens = tokens,
            TokenTypes = types,
            Scores = scores,
            Warnings = [.. data.Warnings, $"vocabulary padded from {have} to {vocabSize} tokens with [PAD1]…[PAD{pad}] to match the embedding"],
        };
    }
}
