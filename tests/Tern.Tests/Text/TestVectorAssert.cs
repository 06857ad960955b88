using System.Text;
using Tern.Text;

namespace Tern.Tests.Text;

public static class TestVectorAssert
{
    /// <summary>
    /// Every case must give exactly its ids, except those listed in <paramref name="expectedFailures"/>, which
    /// must still fail (so the list shrinks when a fix lands). The message shows every mismatch at once.
    /// </summary>
    public static void AllMatch(GgufTokenizer tokenizer, IReadOnlyList<(string Text, int[] Ids)> cases, IReadOnlyCollection<string> expectedFailures)
    {
        var report = new StringBuilder();
        int passed = 0;
        foreach (var (text, expected) in cases)
        {
            int[] actual = tokenizer.Encode(text, addBos: false);
            bool ok = actual.AsSpan().SequenceEqual(expected);
            bool listed = expectedFailures.Contains(text);
            if (ok)
                passed++;
            if (ok == listed)
            {
                report.AppendLine(listed ? $"listed as failing but now passes: '{VocabTestVectors.Show(text)}'" : $"'{VocabTestVectors.Show(text)}'");
                if (!ok)
                {
                    report.AppendLine($"  expected {string.Join(' ', expected)}");
                    report.AppendLine($"  actual   {string.Join(' ', actual)}");
                }
            }
        }

        Assert.True(report.Length == 0, $"{passed} of {cases.Count} cases match; mismatches:\n{report}");
    }
}
