using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Tern.Gguf;
using Tern.Text;

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

    /// <summary>
    /// The text token <paramref name="id"/> adds to the output; a control token, which adds none, as its name in the
    /// vocabulary (&lt;/s&gt;); a byte of a multi-byte character as U+FFFD.
    /// </summary>
    public static string TokenText(GgufTokenizer tokenizer, int id)
    {
        var bytes = PieceBytes(tokenizer, id);
        return bytes.Count == 0 ? tokenizer.TokenText(id) : Encoding.UTF8.GetString(CollectionsMarshal.AsSpan(bytes));
    }

    /// <summary>
    /// <see cref="TokenText"/> in double quotes with C escapes, so that spaces, newlines and control characters show;
    /// a piece that is not whole UTF-8 characters shows its bytes as \xNN.
    /// </summary>
    public static string QuotedTokenText(GgufTokenizer tokenizer, int id)
    {
        var bytes = PieceBytes(tokenizer, id);
        var quoted = new StringBuilder("\"");
        if (bytes.Count > 0 && !System.Text.Unicode.Utf8.IsValid(CollectionsMarshal.AsSpan(bytes)))
        {
            foreach (byte b in bytes)
                quoted.Append(CultureInfo.InvariantCulture, $"\\x{b:X2}");
            return quoted.Append('"').ToString();
        }

        foreach (char c in TokenText(tokenizer, id))
        {
            quoted.Append(c switch
            {
                '\\' => "\\\\",
                '"' => "\\\"",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(c) => string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}"),
                _ => c.ToString(),
            });
        }

        return quoted.Append('"').ToString();
    }

    private static List<byte> PieceBytes(GgufTokenizer tokenizer, int id)
    {
        var bytes = new List<byte>(16);
        tokenizer.AppendPiece(id, bytes, first: false);
        return bytes;
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
