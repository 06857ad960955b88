using Tern.Gguf;
using Tern.Quantization;

namespace Tern.Cli.Commands;

internal static class Types
{
    public static GgmlType Parse(string name, string flag)
    {
        if (!GgmlTypeTraits.TryParse(name, out var type))
            throw new ArgumentException($"{flag}: unknown type '{name}'");
        return type;
    }

    public static GgmlType ParseTernary(string name)
    {
        var type = Parse(name, "TYPE");
        return TernaryCodec.IsTernary(type) ? type : throw new ArgumentException($"TYPE must be i2_s, tq2_0 or tq1_0, not '{name}'");
    }
}
