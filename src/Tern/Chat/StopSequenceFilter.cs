using System.Text;

namespace Tern.Chat;

/// <summary>
/// Sits between the generated pieces and the caller: text that could be the start of a stop sequence is held back
/// until the next pieces show whether it is one, and when a stop sequence is complete the text is cut before it.
/// So a streamed reply never shows a stop sequence, not even its first characters.
/// </summary>
internal sealed class StopSequenceFilter
{
    private readonly string[] _stops;
    private readonly StringBuilder _held = new();

    public StopSequenceFilter(IEnumerable<string> stops) => _stops = [.. stops.Where(s => s.Length > 0).Distinct(StringComparer.Ordinal)];

    /// <summary>Whether a stop sequence has appeared; nothing after it is released.</summary>
    public bool Stopped { get; private set; }

    /// <summary>The text that is safe to release now that <paramref name="piece"/> has arrived (possibly empty).</summary>
    public string Push(string piece)
    {
        if (Stopped)
            return string.Empty;
        if (_stops.Length == 0)
            return piece;
        _held.Append(piece);
        string text = _held.ToString();
        int cut = -1;
        foreach (string stop in _stops)
        {
            int at = text.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (cut < 0 || at < cut))
                cut = at;
        }

        if (cut >= 0)
        {
            Stopped = true;
            _held.Clear();
            return text[..cut];
        }

        int hold = LongestStartOfAStop(text);
        _held.Clear().Append(text, text.Length - hold, hold);
        return text[..^hold];
    }

    /// <summary>What is still held when generation ends without completing a stop sequence.</summary>
    public string Flush()
    {
        string rest = _held.ToString();
        _held.Clear();
        return rest;
    }

    /// <summary>The length of the longest end of <paramref name="text"/> that some stop sequence begins with.</summary>
    private int LongestStartOfAStop(string text)
    {
        int longest = 0;
        foreach (string stop in _stops)
        {
            for (int n = Math.Min(stop.Length - 1, text.Length); n > longest; n--)
            {
                if (text.AsSpan(text.Length - n).SequenceEqual(stop.AsSpan(0, n)))
                {
                    longest = n;
                    break;
                }
            }
        }

        return longest;
    }
}
