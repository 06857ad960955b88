using System.Diagnostics;

namespace Tern.Server.Metrics;

/// <summary>
/// Events per second over a sliding window, counted in one-second buckets: a bucket is reused when its second comes
/// round again, so the counter never grows and never needs a timer.
/// </summary>
internal sealed class TokenRate
{
    private readonly long[] _seconds;
    private readonly long[] _counts;

    public TokenRate(TimeSpan window)
    {
        int buckets = Math.Max(1, (int)Math.Ceiling(window.TotalSeconds));
        _seconds = new long[buckets];
        _counts = new long[buckets];
        Array.Fill(_seconds, -1);
    }

    public void Add(long events)
    {
        long second = Now();
        int bucket = (int)(second % _seconds.Length);
        lock (_counts)
        {
            if (_seconds[bucket] != second)
            {
                _seconds[bucket] = second;
                _counts[bucket] = 0;
            }

            _counts[bucket] += events;
        }
    }

    /// <summary>The events of the window's whole seconds before this one, per second (the current second is still filling).</summary>
    public double PerSecond()
    {
        long now = Now();
        long total = 0;
        int full = _seconds.Length - 1;
        lock (_counts)
        {
            for (int i = 0; i < _seconds.Length; i++)
            {
                if (_seconds[i] < now && _seconds[i] >= now - full)
                    total += _counts[i];
            }
        }

        return full == 0 ? total : (double)total / full;
    }

    private static long Now() => Stopwatch.GetTimestamp() / Stopwatch.Frequency;
}
