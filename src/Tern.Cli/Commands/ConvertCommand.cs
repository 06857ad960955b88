using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Tern.Conversion;
using Tern.Formats;
using Tern.Gguf;

namespace Tern.Cli.Commands;

/// <summary>
/// `tern convert INPUT -o OUT.gguf --type i2_s|tq2_0|tq1_0|f16|bf16|f32 [--token-embedding-type T] [--output-tensor-type T]
/// [--untie] [--bit-order msb|lsb] [--tokenizer FILE] [--name NAME] [--dry-run]`.
/// </summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("INPUT") { Description = "A Hugging Face folder (config.json + safetensors + tokenizer), a llama2.c .bin or a bitllama2.c .bin." };
        var output = new Option<FileInfo>("--output", "-o") { Description = "The GGUF file to write.", Required = true };
        var type = new Option<string>("--type") { Description = "Type of the ternary projections: i2_s (bitnet.cpp), tq2_0, tq1_0 (llama.cpp), f16, bf16, f32.", DefaultValueFactory = _ => "i2_s" };
        type.AcceptOnlyFromAmong(StringComparer.OrdinalIgnoreCase, "i2_s", "tq2_0", "tq1_0", "f16", "bf16", "f32");
        string[] floatTypes = ["f32", "f16", "bf16", "q8_0", "q4_0"];
        var embeddingType = new Option<string>("--token-embedding-type") { Description = "Type of token_embd.weight: f32, f16 (default), bf16, q8_0, q4_0." };
        embeddingType.AcceptOnlyFromAmong(StringComparer.OrdinalIgnoreCase, floatTypes);
        var outputType = new Option<string>("--output-tensor-type") { Description = "Type of output.weight (an untied head): f32, f16, bf16, q8_0, q4_0; defaults to the embedding's type." };
        outputType.AcceptOnlyFromAmong(StringComparer.OrdinalIgnoreCase, floatTypes);
        var untie = new Option<bool>("--untie") { Description = "Store output.weight even when it equals token_embd.weight (tied heads are stored once by default)." };
        var bitOrder = new Option<string>("--bit-order") { Description = "bitllama2.c files: msb (bit_model_1M/3M.bin) or lsb (later exports) for the order of the 2-bit codes in a byte.", DefaultValueFactory = _ => "msb" };
        bitOrder.AcceptOnlyFromAmong(StringComparer.OrdinalIgnoreCase, "msb", "lsb");
        var tokenizer = new Option<FileInfo>("--tokenizer") { Description = "llama2.c files: the tokenizer .bin (default: tok512.bin or tokenizer.bin beside the model)." };
        var name = new Option<string>("--name") { Description = "general.name to write." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the plan (tensor, type, size) and write nothing." };

        var command = new Command("convert", "Convert a Hugging Face checkpoint (BitNet 2B-4T, 1bitLLM, Llama3-8B-1.58, Falcon3 1.58-bit) or a llama2.c / bitllama2.c file to GGUF.")
        {
            input, output, type, embeddingType, outputType, untie, bitOrder, tokenizer, name, dryRun,
        };
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            var options = new ConversionOptions
            {
                WeightType = Types.Parse(parse.GetRequiredValue(type), "--type"),
                TokenEmbeddingType = parse.GetValue(embeddingType) is { } e ? Types.Parse(e, "--token-embedding-type") : null,
                OutputTensorType = parse.GetValue(outputType) is { } o ? Types.Parse(o, "--output-tensor-type") : null,
                Untie = parse.GetValue(untie),
                Name = parse.GetValue(name),
            };
            var sourceOptions = new ModelSourceOptions
            {
                BitOrder = string.Equals(parse.GetValue(bitOrder), "lsb", StringComparison.OrdinalIgnoreCase) ? BitOrder.LsbFirst : BitOrder.MsbFirst,
                TokenizerPath = parse.GetValue(tokenizer)?.FullName,
            };
            string outPath = OutputPaths.Require(parse.GetRequiredValue(output));

            using var source = ModelSources.Open(parse.GetRequiredValue(input), sourceOptions);
            var plan = ModelConverter.Plan(source, options);
            AnsiConsole.MarkupLine(Markup.Escape(source.Description));
            foreach (var note in plan.Notes)
                AnsiConsole.MarkupLine($"[yellow]note:[/] {Markup.Escape(note)}");
            if (parse.GetValue(dryRun))
            {
                PrintPlan(plan);
                return 0;
            }

            ProgressBars.Run("convert", progress => ModelConverter.Write(plan, outPath, progress));
            var counts = plan.Tensors.GroupBy(t => GgmlTypeTraits.NameOf(t.Type)).Select(g => $"{g.Count()} {g.Key}");
            AnsiConsole.MarkupLine($"wrote {Markup.Escape(outPath)}: {plan.Tensors.Count} tensors ({string.Join(", ", counts)}), {Formatting.Bytes(new FileInfo(outPath).Length)}");
            return 0;
        }));
        return command;
    }

    private static void PrintPlan(ConversionPlan plan)
    {
        var table = new Table().AddColumn("tensor").AddColumn("type").AddColumn("shape").AddColumn(new TableColumn("bytes").RightAligned());
        foreach (var t in plan.Tensors)
            table.AddRow(Markup.Escape(t.Source.Name), GgmlTypeTraits.NameOf(t.Type), string.Join(" × ", t.Source.Shape), t.ByteSize.ToString("N0", CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"{plan.Tensors.Count} tensors, {Formatting.Bytes(plan.TensorBytes)} of tensor data");
    }
}
