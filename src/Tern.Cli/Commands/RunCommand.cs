using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Tern.Inference;
using Tern.Text;

namespace Tern.Cli.Commands;

/// <summary>
/// `tern run -m MODEL (-p PROMPT | -f FILE) [-n N] [-t T] [-c CTX] [--temp T] [--top-k K] [--top-p P] [--min-p P]
/// [--repeat-penalty R] [--seed S] [--json] [--head-type T]`: streams the generated text, then prompt and generation tokens/s.
/// </summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo>("--model", "-m") { Description = ShippedModel.OptionDescription };
        var prompt = new Option<string>("--prompt", "-p") { Description = "The prompt (special tokens such as <|begin_of_text|> are recognized).", DefaultValueFactory = _ => "" };
        var promptFile = new Option<FileInfo>("--file", "-f") { Description = "Read the prompt from a UTF-8 text file (one trailing newline is dropped)." };
        var tokens = new Option<int>("--n-predict", "-n") { Description = "Tokens to generate.", DefaultValueFactory = _ => 128 };
        var context = new Option<int?>("--ctx-size", "-c") { Description = "Context length in tokens (default: the model's, at most 4096)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object (prompt and generated token ids, text, speeds) instead of streaming." };
        var command = new Command("run", "Generate text from a prompt.")
        {
            model, prompt, promptFile, tokens, context, json,
        };
        var samplingArguments = new SamplingArguments("Seed of the random draw (default: random; printed with --json).");
        samplingArguments.AddTo(command);
        var load = new ModelLoadOptions();
        load.AddTo(command);
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            int n = parse.GetValue(tokens);
            if (n < 0)
                throw new ArgumentException($"-n {n}: the number of tokens to generate must be 0 or more");
            var sampling = samplingArguments.Read(parse);
            string promptText = ReadPrompt(parse.GetValue(prompt), parse.GetValue(promptFile));

            using var placed = load.Read(parse);
            using var loaded = placed.Load(ShippedModel.Resolve(parse.GetValue(model)));
            int ctx = parse.GetValue(context) ?? Math.Min(loaded.Config.ContextLength, 4096);
            if (ctx < 1 || ctx > loaded.Config.ContextLength)
                throw new ArgumentException($"-c {ctx}: the context must be between 1 and the model's {loaded.Config.ContextLength} tokens");
            var tokenizer = GgufTokenizer.Create(loaded.Metadata);
            using var session = loaded.CreateSession(ctx);
            var generator = new TextGenerator(session, tokenizer);
            var promptIds = generator.Tokenize(promptText);
            if (promptIds.Length == 0)
                promptIds = [tokenizer.BosId];
            if (promptIds.Length > ctx)
                throw new ArgumentException($"the prompt is {promptIds.Length} tokens, longer than the context of {ctx} (-c)");

            if (parse.GetValue(json))
            {
                var ids = new List<int>();
                var text = new StringBuilder();
                foreach (var g in generator.Generate(promptIds, n, sampling))
                {
                    if (g.Id >= 0)
                        ids.Add(g.Id);
                    text.Append(g.Text);
                }

                Console.Out.Write(ToJson(promptIds, ids, text.ToString(), sampling.Seed, generator.Statistics, loaded.Backend));
                return 0;
            }

            Console.Error.WriteLine($"backend: {loaded.Backend}");
            var stdout = Console.Out;
            stdout.Write(promptText);
            foreach (var g in generator.Generate(promptIds, n, sampling))
            {
                stdout.Write(g.Text);
                stdout.Flush();
            }

            stdout.WriteLine();
            var s = generator.Statistics;
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"prompt: {s.PromptTokens} tokens, {s.PromptTokensPerSecond:F2} tokens/s; generation: {s.GeneratedTokens} tokens, {s.GeneratedTokensPerSecond:F2} tokens/s"));
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// The prompt from -p or -f (not both). A file's one trailing newline is dropped, as llama.cpp's -f does: editors
    /// end files with one, and it would otherwise become a prompt token.
    /// </summary>
    private static string ReadPrompt(string? text, FileInfo? file)
    {
        if (file is null)
            return text ?? "";
        if (!string.IsNullOrEmpty(text))
            throw new ArgumentException("give the prompt with -p or -f, not both");
        string content = Utf8TextFile.Read(file.FullName);
        return content.EndsWith("\r\n", StringComparison.Ordinal) ? content[..^2]
            : content.EndsWith('\n') ? content[..^1]
            : content;
    }

    private static string ToJson(int[] prompt, List<int> generated, string text, int seed, GenerationStatistics s, string backend)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteStartArray("prompt_tokens");
            foreach (int id in prompt)
                w.WriteNumberValue(id);
            w.WriteEndArray();
            w.WriteStartArray("tokens");
            foreach (int id in generated)
                w.WriteNumberValue(id);
            w.WriteEndArray();
            w.WriteString("text", text);
            w.WriteNumber("seed", seed);
            w.WriteNumber("prompt_tokens_per_second", Math.Round(s.PromptTokensPerSecond, 3));
            w.WriteNumber("tokens_per_second", Math.Round(s.GeneratedTokensPerSecond, 3));
            w.WriteString("backend", backend);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + Environment.NewLine;
    }
}
