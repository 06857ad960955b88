using System.CommandLine;
using System.Globalization;
using System.Text;
using Tern.Inference;
using Tern.Text;

namespace Tern.Cli.Commands;

/// <summary>`tern perplexity -m MODEL -f TEXT [-c 512] [--chunks N] [-t T] [--head-type T]`: llama.cpp's chunked perplexity.</summary>
internal static class PerplexityCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo>("--model", "-m") { Description = "The GGUF model.", Required = true };
        var file = new Option<FileInfo>("--file", "-f") { Description = "The text (UTF-8).", Required = true };
        var context = new Option<int>("--ctx-size", "-c") { Description = "Tokens per chunk.", DefaultValueFactory = _ => 512 };
        var chunks = new Option<int?>("--chunks") { Description = "Score at most this many chunks (default: all)." };
        var command = new Command("perplexity", "Perplexity of a text, computed in chunks as llama.cpp's perplexity tool does.")
        {
            model, file, context, chunks,
        };
        var load = new ModelLoadOptions();
        load.AddTo(command);
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            string path = parse.GetRequiredValue(file).FullName;
            string text = Utf8TextFile.Read(path);

            using var placed = load.Read(parse);
            using var loaded = placed.Load(parse.GetRequiredValue(model).FullName);
            int ctx = parse.GetValue(context);
            if (ctx < 4 || ctx > loaded.Config.ContextLength)
                throw new ArgumentException($"-c {ctx}: the context must be between 4 and the model's {loaded.Config.ContextLength} tokens");
            var result = Perplexity.Compute(loaded, GgufTokenizer.Create(loaded.Metadata), text, ctx, parse.GetValue(chunks),
                (chunk, ppl) => Console.Out.Write(string.Create(CultureInfo.InvariantCulture, $"[{chunk}]{ppl:F4},")));
            Console.Out.WriteLine();
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Final estimate: PPL = {result.Value:F4} +/- {result.StandardError:F5} ({result.Chunks} chunks of {ctx}, {result.ScoredTokens} tokens scored)"));
            return 0;
        }));
        return command;
    }
}
