using System.Globalization;
using Tern.Gguf;

namespace Tern.Cli.Commands;

internal static class Formatting
{
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.Length - 1)
        {
            v /= 1024;
            u++;
        }

        return u == 0 ? $"{bytes} B" : string.Create(CultureInfo.InvariantCulture, $"{v:0.##} {units[u]}");
    }

    public static string Count(long n) => n switch
    {
        >= 1_000_000_000 => string.Create(CultureInfo.InvariantCulture, $"{n / 1e9:0.##} B"),
        >= 1_000_000 => string.Create(CultureInfo.InvariantCulture, $"{n / 1e6:0.##} M"),
        >= 1_000 => string.Create(CultureInfo.InvariantCulture, $"{n / 1e3:0.##} K"),
        _ => n.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>A value as one line: arrays show their length and first elements.</summary>
    public static string Value(GgufValue v, int maxLength = 80)
    {
        string text;
        if (v.IsArray)
        {
            var raw = (Array)v.RawValue;
            var first = new List<string>();
            for (int i = 0; i < Math.Min(raw.Length, 4); i++)
                first.Add(raw.GetValue(i) is GgufValue inner ? inner.Describe() : Scalar(raw.GetValue(i)!));
            text = $"[{raw.Length} × {v.ElementType.ToString().ToLowerInvariant()}] {string.Join(", ", first)}{(raw.Length > 4 ? ", …" : "")}";
        }
        else
        {
            text = Scalar(v.RawValue);
        }

        text = text.Replace("\n", "\\n", StringComparison.Ordinal);
        return text.Length <= maxLength ? text : string.Concat(text.AsSpan(0, maxLength - 1), "…");
    }

    private static string Scalar(object o) => o switch
    {
        string s => s,
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        _ => Convert.ToString(o, CultureInfo.InvariantCulture) ?? "",
    };
}
