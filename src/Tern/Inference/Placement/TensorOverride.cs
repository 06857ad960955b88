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

    public override string ToString() => $"{Pattern}={Device.ToString().ToLowerInvariant()}";
}
