using System.Text;

namespace Tern.Conversion.Tokenizers;

/// <summary>
/// Reads a tiktoken rank file (Llama 3's tokenizer.model: one "base64-bytes rank" per line) into llama.cpp's
/// "gpt2" vocabulary: tokens are the ranks' bytes through GPT-2's byte-to-character table, special tokens follow
/// as CONTROL, and the merges are rebuilt from the ranks the way Hugging Face's TikTokenConverter builds the
/// merges of the published tokenizer.json, so both sources give the same GGUF.
/// </summary>
public static class TiktokenModelReader
{
    /// <param name="path">The rank file.</param>
    /// <param name="specialTokens">Names of the special tokens following the ranks, in id order; null picks
    /// Llama 3's when the file has Llama 3's 128,000 ranks, and none otherwise.</param>
    public static GgufTokenizerData Read(string path, IReadOnlyList<string>? specialTokens = null)
    {
        var tokens = ReadRanks(path);
        var warnings = new List<string>();
        bool llama3Size = tokens.Count == HuggingFaceTokenizerJsonReader.Llama3BaseVocabSize;
        if (specialTokens is null)
        {
            if (llama3Size)
                specialTokens = Llama3SpecialTokens.Names;
            else
            {
                specialTokens = [];
                warnings.Add($"{path}: {tokens.Count} ranks is not Llama 3's vocabulary and no special tokens were given; none added");
            }
        }

        // A rank file does not carry its split regex; Llama 3's size is the only evidence available.
        string pre = llama3Size ? KnownPre.Llama3 : KnownPre.Default;
        if (!llama3Size)
            warnings.Add($"{path}: the split regex of a tiktoken file is not recorded in it; wrote tokenizer.ggml.pre = \"default\"");

        var merges = BuildMerges(tokens);

        var types = new int[tokens.Count + specialTokens.Count];
        types.AsSpan(0, tokens.Count).Fill((int)GgufTokenType.Normal);
        types.AsSpan(tokens.Count).Fill((int)GgufTokenType.Control);
        tokens.AddRange(specialTokens);

        return new GgufTokenizerData
        {
            Model = "gpt2",
            Pre = pre,
            Tokens = [.. tokens],
            TokenTypes = types,
            Merges = merges,
            Warnings = warnings,
        };
    }

    /// <summary>
    /// For every token of two or more bytes, in rank order, each split into two parts that are both tokens is a
    /// merge; splits of one token are ordered by the parts' ranks. This is more than the one merge per token
    /// that a BPE needs (280,147 for Llama 3's 127,744 multi-byte tokens), but it is the list Hugging Face
    /// publishes. All splits of one token sit together at that token's place, so applying merges by list position
    /// joins pieces in the same order as tiktoken, which joins the adjacent pair whose concatenation ranks lowest.
    /// </summary>
    internal static string[] BuildMerges(IReadOnlyList<string> tokens)
    {
        var rank = new Dictionary<string, int>(tokens.Count, StringComparer.Ordinal);
        for (int i = 0; i < tokens.Count; i++)
            rank[tokens[i]] = i;
        var lookup = rank.GetAlternateLookup<ReadOnlySpan<char>>();

        var merges = new List<string>(tokens.Count * 2);
        var local = new List<(int Left, int Right, int Split)>();
        foreach (string token in tokens)
        {
            if (token.Length < 2)
                continue;
            local.Clear();
            for (int split = 1; split < token.Length; split++)
            {
                if (lookup.TryGetValue(token.AsSpan(0, split), out int left) && lookup.TryGetValue(token.AsSpan(split), out int right))
                    local.Add((left, right, split));
            }

            local.Sort(static (a, b) => a.Left != b.Left ? a.Left.CompareTo(b.Left) : a.Right.CompareTo(b.Right));
            foreach (var (_, _, split) in local)
                merges.Add(string.Concat(token.AsSpan(0, split), " ", token.AsSpan(split)));
        }

        return [.. merges];
    }

    /// <summary>The byte-level token text of each rank, indexed by rank; ranks must be 0…n−1 without gaps.</summary>
    private static List<string> ReadRanks(string path)
    {
        var byRank = new List<string?>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path, Encoding.UTF8))
        {
            lineNumber++;
            if (line.Length == 0)
                continue;
            int space = line.IndexOf(' ');
            if (space <= 0 || !int.TryParse(line.AsSpan(space + 1), System.Globalization.NumberStyles.None, null, out int r))
                throw new InvalidDataException($"{path}: line {lineNumber} is not \"base64 rank\"");

            byte[] bytes;
            try
            {
                bytes = Convert.FromBase64String(line[..space]);
            }
            catch (FormatException)
            {
                throw new InvalidDataException($"{path}: line {lineNumber}: \"{line[..space]}\" is not valid base64");
            }

            if (bytes.Length == 0)
                throw new InvalidDataException($"{path}: line {lineNumber}: empty token");
            string token = ByteLevelEncoding.Encode(bytes);
            if (!seen.Add(token))
                throw new InvalidDataException($"{path}: line {lineNumber}: token \"{line[..space]}\" appears twice");
            while (byRank.Count <= r)
                byRank.Add(null);
            if (byRank[r] is not null)
                throw new InvalidDataException($"{path}: line {lineNumber}: rank {r} is given twice");
            byRank[r] = token;
        }

        if (byRank.Count == 0)
            throw new InvalidDataException($"{path}: no ranks; not a tiktoken file");
        int gap = byRank.IndexOf(null);
        if (gap >= 0)
            throw new InvalidDataException($"{path}: no token has rank {gap}; ranks must run from 0 without gaps to be token ids");
        return byRank!;
    }
}
