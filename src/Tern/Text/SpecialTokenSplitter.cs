using Tern.Conversion.Tokenizers;

namespace Tern.Text;

/// <summary>
/// Cuts text into plain fragments and special tokens written out in it, as llama.cpp's tokenizer_st_partition
/// does: the special tokens are tried longest first, and each one splits every plain fragment left so far at
/// each of its occurrences, left to right.
/// </summary>
internal sealed class SpecialTokenSplitter
{
    private readonly (string Text, int Id)[] _specials;

    public SpecialTokenSplitter(string[] tokens, GgufTokenType[] types, Func<GgufTokenType, bool> isSpecial)
    {
        var list = new List<(string, int)>();
        for (int i = 0; i < tokens.Length; i++)
        {
            if (isSpecial(types[i]) && tokens[i].Length > 0)
                list.Add((tokens[i], i));
        }

        // Stable: equal lengths keep id order, as llama.cpp's std::sort over ids usually leaves them.
        _specials = [.. list.OrderByDescending(s => s.Item1.Length)];
    }

    /// <summary>A plain fragment (<see cref="TokenId"/> = -1) or one special token.</summary>
    public readonly record struct Fragment(string? Text, int TokenId);

    public List<Fragment> Split(string text)
    {
        var fragments = new List<Fragment> { new(text, -1) };
        foreach (var (special, id) in _specials)
        {
            for (int f = 0; f < fragments.Count; f++)
            {
                if (fragments[f].TokenId >= 0)
                    continue;
                string raw = fragments[f].Text!;
                int at = raw.IndexOf(special, StringComparison.Ordinal);
                if (at < 0)
                    continue;

                var pieces = new List<Fragment>();
                int start = 0;
                while (at >= 0)
                {
                    if (at > start)
                        pieces.Add(new(raw[start..at], -1));
                    pieces.Add(new(null, id));
                    start = at + special.Length;
                    at = raw.IndexOf(special, start, StringComparison.Ordinal);
                }

                if (start < raw.Length)
                    pieces.Add(new(raw[start..], -1));
                fragments.RemoveAt(f);
                fragments.InsertRange(f, pieces);
                f += pieces.Count - 1;
            }
        }

        return fragments;
    }
}
