using System.CommandLine;

namespace Tern.Cli.Commands;

internal static class QuantizeCommand
{
    public static Command Create() => new("quantize", "Re-encode the ternary tensors of a GGUF file as I2_S, TQ2_0 or TQ1_0 without loss.");
}
