using System.CommandLine;
using Tern.Cli.Commands;

Consoles.ConfigureStdout();

var root = new RootCommand("Tern: BitNet b1.58 (ternary) language models in .NET: inspect, convert and quantize GGUF files, and run them.")
{
    InfoCommand.Create(),
    ConvertCommand.Create(),
    QuantizeCommand.Create(),
    RunCommand.Create(),
    BenchCommand.Create(),
    PerplexityCommand.Create(),
    ChatCommand.Create(),
    ServeCommand.Create(),
    LogitsCommand.Create(),
    TrainCommand.Create(),
};

return root.Parse(args).Invoke();
