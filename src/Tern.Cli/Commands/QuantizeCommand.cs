using System.CommandLine;
using Spectre.Console;
using Tern.Conversion;
using Tern.Gguf;

namespace Tern.Cli.Commands;

/// <summary>`tern quantize IN.gguf OUT.gguf TYPE`: lossless re-encoding between I2_S, TQ2_0 and TQ1_0.</summary>
internal static class QuantizeCommand
{
    public static Command Create()
    {
        var input = new Argument<FileInfo>("IN") { Description = "The GGUF file to read." };
        var output = new Argument<FileInfo>("OUT") { Description = "The GGUF file to write (written to a temporary name, then renamed)." };
        var type = new Argument<string>("TYPE") { Description = "i2_s, tq2_0 or tq1_0." };
        type.AcceptOnlyFromAmong(StringComparer.OrdinalIgnoreCase, "i2_s", "tq2_0", "tq1_0");
        var command = new Command("quantize", "Re-encode the ternary tensors of a GGUF file as I2_S, TQ2_0 or TQ1_0 without changing any value; other tensors and all metadata are kept.")
        {
            input, output, type,
        };
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            var target = Types.ParseTernary(parse.GetRequiredValue(type));
            string inPath = parse.GetRequiredValue(input).FullName;
            string outPath = OutputPaths.Require(parse.GetRequiredValue(output));
            IReadOnlyList<GgufRequantizer.TensorResult> results = [];
            ProgressBars.Run($"quantize → {GgmlTypeTraits.NameOf(target)}", progress => results = GgufRequantizer.Requantize(inPath, outPath, target, progress));

            int changed = results.Count(r => r.From != r.To);
            foreach (var r in results.Where(r => r.Note is not null))
                AnsiConsole.MarkupLine($"[yellow]note:[/] {Markup.Escape(r.Name)}: {Markup.Escape(r.Note!)}");
            AnsiConsole.MarkupLine($"{changed} ternary tensors re-encoded as {GgmlTypeTraits.NameOf(target)}, {results.Count - changed} copied; wrote {Markup.Escape(outPath)} ({Formatting.Bytes(new FileInfo(outPath).Length)})");
            return 0;
        }));
        return command;
    }
}
