using System.Globalization;
using System.Text;

namespace Tern.Tests.Text;

/// <summary>
/// llama.cpp's tokenizer test vectors (tests/test-tokenizer-0.cpp): NAME.inp holds the inputs separated by
/// "\n__ggml_vocab_test__\n", NAME.out one line of space-separated ids per input. llama.cpp keeps them in a
/// map, so a repeated input is one case; it tokenizes with add_special = false and parse_special = false.
/// </summary>
public static class VocabTestVectors
{
    private const string Separator = "\n__ggml_vocab_test__\n";

    public static IReadOnlyList<(string Text, int[] Ids)> Read(string name)
    {
        string raw = Encoding.UTF8.GetString(File.ReadAllBytes(TestData.SharedDataPath("tokenizers", "tests", name + ".inp")));
        string[] outLines = File.ReadAllLines(TestData.SharedDataPath("tokenizers", "tests", name + ".out"));

        var inputs = new List<string>();
        for (int pos = 0; pos < raw.Length;)
        {
            int next = raw.IndexOf(Separator, pos, StringComparison.Ordinal);
            if (next < 0)
            {
                inputs.Add(raw[pos..]);
                break;
            }

            inputs.Add(raw[pos..next]);
            pos = next + Separator.Length;
        }

        Assert.Equal(inputs.Count, outLines.Length);
        var cases = new Dictionary<string, int[]>(StringComparer.Ordinal);
        for (int i = 0; i < inputs.Count; i++)
        {
            cases[inputs[i]] = outLines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        }

        return [.. cases.Select(kv => (kv.Key, kv.Value))];
    }

    /// <summary>Shows a text with its control characters visible, for failure messages.</summary>
    public static string Show(string text) =>
        text.Replace("\n", "\\n", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal).Replace("\r", "\\r", StringComparison.Ordinal);
}
