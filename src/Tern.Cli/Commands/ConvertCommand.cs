using System.CommandLine;

namespace Tern.Cli.Commands;

internal static class ConvertCommand
{
    public static Command Create() => new("convert", "Convert a Hugging Face checkpoint or a llama2.c / bitllama2.c file to GGUF.");
}
