using System.Text.RegularExpressions;

namespace Tern.Text;

/// <summary>
/// The pre-tokenizer regexes llama.cpp selects by tokenizer.ggml.pre (llama-vocab.cpp). Byte-level BPE never
/// merges across the pieces these cut. Where llama.cpp lists several regexes they apply in turn, each cutting
/// the pieces of the one before; text between matches stays a piece of its own.
/// </summary>
/// <remarks>.NET's regex sees UTF-16 code units, so a letter or digit outside the Basic Multilingual Plane
/// (a surrogate pair) counts as neither; llama.cpp classifies it by code point. Emoji are symbols either way.</remarks>
public static class PreTokenizerPatterns
{
    /// <summary>Llama 3 ("llama-bpe"); HF writes the contractions as (?i:'s|…), llama.cpp spells the cases out.</summary>
    public const string Llama3 =
        @"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>GPT-2's ("gpt2").</summary>
    public const string Gpt2 = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>llama.cpp's fallback for "default" and unknown names: punctuation alone first, then GPT-2's.</summary>
    public static readonly string[] Default = [@"[\p{P}\$\+<=>\^`\|~]", @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"];

    /// <summary>The regexes for a tokenizer.ggml.pre value; null for one Tern does not know (llama.cpp refuses those).</summary>
    public static string[]? For(string pre) => pre switch
    {
        "llama-bpe" or "llama3" or "falcon3" => [Llama3],
        "gpt-2" or "gpt2" => [Gpt2],
        "default" => Default,
        _ => null,
    };

    /// <summary>Cuts <paramref name="text"/> with <paramref name="regexes"/> in turn.</summary>
    public static List<string> Split(string text, IReadOnlyList<Regex> regexes)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(regexes);
        var pieces = new List<string> { text };
        foreach (var regex in regexes)
        {
            var next = new List<string>(pieces.Count * 2);
            foreach (string piece in pieces)
            {
                int start = 0;
                foreach (Match m in regex.Matches(piece))
                {
                    if (m.Length == 0)
                        continue;
                    if (m.Index > start)
                        next.Add(piece[start..m.Index]);
                    next.Add(m.Value);
                    start = m.Index + m.Length;
                }

                if (start < piece.Length)
                    next.Add(piece[start..]);
            }

            pieces = next;
        }

        return pieces;
    }
}
