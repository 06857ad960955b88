using System.Text.RegularExpressions;

namespace Tern.Inference.Placement;

/// <summary>
/// One <c>--override-tensor REGEX=cpu|cuda</c>: every tensor whose GGUF name the pattern finds (a search, as
/// llama.cpp's <c>-ot</c> does, not a whole-name match) computes on <see cref="Device"/>, whichever layer it is in.
/// </summary>
public sealed record TensorOverride(Regex Pattern, ComputeDevice Device)
{
    /// <summary>Parses "REGEX=cpu" or "REGEX=cuda" (the last '=' separates them); throws a <see cref="FormatException"/> naming the problem.</summary>
    public static TensorOverride Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int split = text.LastIndexOf('=');
        if (split <= 0 || split == text.Length - 1)
            throw new FormatException($"--override-tensor '{text}': expected REGEX=cpu or REGEX=cuda");
        string pattern = text[..split], device = text[(split + 1)..].Trim().ToLowerInvariant();
        ComputeDevice target = device switch
        {
            "cpu" => ComputeDevice.Cpu,
            "cuda" or "gpu" or "cuda0" => ComputeDevice.Cuda,
            _ => throw new FormatException($"--override-tensor '{text}': unknown device '{text[(split + 1)..]}' (cpu or cuda)"),
        };
        try
        {
            return new TensorOverride(new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)), target);
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"--override-tensor '{text}': '{pattern}' is not a valid regular expression ({e.Message})");
        }
    }

    /// <summary>
    /// Parses one <c>--override-tensor</c> value: a REGEX=device pair, or several separated by commas as llama.cpp's
    /// <c>-ot exps=CPU,output=CUDA0</c> takes them. A piece without '=' is part of the next one's pattern, so a
    /// quantifier such as <c>{1,3}</c> keeps its comma.
    /// </summary>
    public static IReadOnlyList<TensorOverride> ParseList(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var overrides = new List<TensorOverride>();
        string? pending = null;
        foreach (string piece in text.Split(','))
        {
            pending = pending is null ? piece : pending + "," + piece;
            if (pending.Contains('=', StringComparison.Ordinal))
            {
                overrides.Add(Parse(pending));
                pending = null;
            }
        }

        if (pending is not null)
            throw new FormatException($"--override-tensor '{text}': expected REGEX=cpu or REGEX=cuda, several separated by commas");
        return overrides;
    }

    public override string ToString() => $"{Pattern}={Device.ToString().ToLowerInvariant()}";
}
