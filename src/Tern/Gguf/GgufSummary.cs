namespace Tern.Gguf;

/// <summary>Counts that describe a model file: parameters stored in ternary formats versus the rest, and bytes.</summary>
public sealed record GgufSummary(
    long TernaryParameters,
    long OtherParameters,
    long TernaryBytes,
    long OtherBytes,
    IReadOnlyDictionary<string, long> ParametersByType)
{
    public long TotalParameters => TernaryParameters + OtherParameters;

    /// <summary>Bits per weight over the ternary tensors, including their scales and padding.</summary>
    public double TernaryBitsPerWeight => TernaryParameters == 0 ? 0 : 8.0 * TernaryBytes / TernaryParameters;

    public static GgufSummary Of(GgufFile file)
    {
        long ternary = 0, other = 0, ternaryBytes = 0, otherBytes = 0;
        var byType = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var t in file.Tensors)
        {
            long n = t.ElementCount;
            if (t.TypeInfo.IsTernary)
            {
                ternary += n;
                ternaryBytes += t.ByteSize;
            }
            else
            {
                other += n;
                otherBytes += t.ByteSize;
            }

            byType[t.TypeInfo.Name] = byType.GetValueOrDefault(t.TypeInfo.Name) + n;
        }

        return new GgufSummary(ternary, other, ternaryBytes, otherBytes, byType);
    }
}
