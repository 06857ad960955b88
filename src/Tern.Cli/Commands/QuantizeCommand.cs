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
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Name every tensor whose scale rounds to fp16 (by default: a count and the first three)." };
        type.AcceptOnlyFromAmong(StringComparer.OrdinalIgnoreCase, "i2_s", "tq2_0", "tq1_0");
        var command = new Command("quantize", "Re-encode the ternary tensors of a GGUF file as I2_S, TQ2_0 or TQ1_0 without changing any value; other tensors and all metadata are kept.")
        {
            input, output, type, verbose,
        };
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            var target = Types.ParseTernary(parse.GetRequiredValue(type));
            string inPath = parse.GetRequiredValue(input).FullName;
            string outPath = OutputPaths.Require(parse.GetRequiredValue(output));
            IReadOnlyList<GgufRequantizer.TensorResult> results = [];
            ProgressBars.Run($"quantize → {GgmlTypeTraits.NameOf(target)}", progress => results = GgufRequantizer.Requantize(inPath, outPath, target, progress));

            int changed = results.Count(r => r.From != r.To);
            var rounded = results.Where(r => r.Note is not null).ToList();
            int shown = parse.GetValue(verbose) ? rounded.Count : Math.Min(3, rounded.Count);
            foreach (var r in rounded.Take(shown))
                AnsiConsole.MarkupLine($"[yellow]note:[/] {Markup.Escape(r.Name)}: {Markup.Escape(r.Note!)}");
            if (rounded.Count > shown)
                AnsiConsole.MarkupLine($"[yellow]note:[/] … and {rounded.Count - shown} more (--verbose lists them)");
            if (rounded.Count > 0)
            {
                AnsiConsole.MarkupLine($"[yellow]note:[/] {rounded.Count} I2_S scales are not exact in fp16; the largest relative change is " +
                    $"{rounded.Max(r => r.ScaleRelativeChange).ToString("0.##E+0", System.Globalization.CultureInfo.InvariantCulture)}; all ternary values are unchanged");
            }
            AnsiConsole.MarkupLine($"{changed} ternary tensors re-encoded as {GgmlTypeTraits.NameOf(target)}, {results.Count - changed} copied; wrote {Markup.Escape(outPath)} ({Formatting.Bytes(new FileInfo(outPath).Length)})");
            return 0;
        }));
        return command;
    }
}
