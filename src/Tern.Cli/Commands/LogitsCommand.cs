using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Spectre.Console;
using Tern.Inference;
using Tern.Text;

namespace Tern.Cli.Commands;

/// <summary>
/// `tern logits -m MODEL -p PROMPT [--top K] [-t T] [-c CTX] [--json]`: evaluates the prompt and prints the K most
/// likely next tokens with their logits and probabilities, to compare the engine with others token by token.
/// </summary>
internal static class LogitsCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo>("--model", "-m") { Description = "The GGUF model.", Required = true };
        var prompt = new Option<string>("--prompt", "-p") { Description = "The prompt (special tokens such as <|begin_of_text|> are recognized).", DefaultValueFactory = _ => "" };
        var top = new Option<int>("--top") { Description = "How many of the most likely next tokens to print.", DefaultValueFactory = _ => 10 };
        var context = new Option<int?>("--ctx-size", "-c") { Description = "Context length in tokens (default: the model's, at most 4096)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object: prompt_tokens and top (id, text, logit, prob)." };
        var command = new Command("logits", "The most likely next tokens after a prompt, with their logits and probabilities.")
        {
            model, prompt, top, context, json,
        };
        var load = new ModelLoadOptions();
        load.AddTo(command);
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            int k = parse.GetValue(top);
            if (k < 1)
                throw new ArgumentException($"--top {k}: at least one token must be shown");
            using var placed = load.Read(parse);
            using var loaded = placed.Load(parse.GetRequiredValue(model).FullName);
            int ctx = parse.GetValue(context) ?? Math.Min(loaded.Config.ContextLength, 4096);
            if (ctx < 1 || ctx > loaded.Config.ContextLength)
                throw new ArgumentException($"-c {ctx}: the context must be between 1 and the model's {loaded.Config.ContextLength} tokens");
            var tokenizer = GgufTokenizer.Create(loaded.Metadata);
            using var session = loaded.CreateSession(ctx);
            // The same prompt tokens as `tern run`, so that the top token here is run's first greedy token.
            var promptIds = new TextGenerator(session, tokenizer).Tokenize(parse.GetValue(prompt) ?? "");
            if (promptIds.Length == 0)
                promptIds = [tokenizer.BosId];
            if (promptIds.Length > ctx)
                throw new ArgumentException($"the prompt is {promptIds.Length} tokens, longer than the context of {ctx} (-c)");

            var logits = new float[loaded.Config.VocabSize];
            foreach (int id in promptIds)
                session.Evaluate(id).CopyTo(logits);
            var best = TopTokens(logits, Math.Min(k, logits.Length));

            if (parse.GetValue(json))
                Console.Out.Write(ToJson(promptIds, best, tokenizer));
            else
                PrintTable(promptIds, best, tokenizer);
            return 0;
        }));
        return command;
    }

    private readonly record struct Candidate(int Id, float Logit, double Probability);

    /// <summary>The <paramref name="k"/> largest logits, largest first (the lower id first on ties, as greedy decoding picks).</summary>
    private static Candidate[] TopTokens(float[] logits, int k)
    {
        float max = logits.Max();
        double sum = 0;
        foreach (float l in logits)
            sum += Math.Exp(l - max);
        var ids = Enumerable.Range(0, logits.Length).ToArray();
        Array.Sort(ids, (a, b) => logits[a] != logits[b] ? logits[b].CompareTo(logits[a]) : a.CompareTo(b));
        return [.. ids.Take(k).Select(id => new Candidate(id, logits[id], Math.Exp(logits[id] - max) / sum))];
    }

    private static void PrintTable(int[] promptIds, Candidate[] best, GgufTokenizer tokenizer)
    {
        Console.Out.WriteLine($"prompt: {promptIds.Length} tokens: {string.Join(' ', promptIds)}");
        var table = new Table().AddColumn(new TableColumn("rank").RightAligned()).AddColumn(new TableColumn("id").RightAligned())
            .AddColumn("token").AddColumn(new TableColumn("logit").RightAligned()).AddColumn(new TableColumn("prob").RightAligned());
        for (int i = 0; i < best.Length; i++)
        {
            var c = best[i];
            table.AddRow((i + 1).ToString(CultureInfo.InvariantCulture), c.Id.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(Formatting.QuotedTokenText(tokenizer, c.Id)),
                c.Logit.ToString("F4", CultureInfo.InvariantCulture), c.Probability.ToString("F6", CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(table);
    }

    private static string ToJson(int[] promptIds, Candidate[] best, GgufTokenizer tokenizer)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteStartArray("prompt_tokens");
            foreach (int id in promptIds)
                w.WriteNumberValue(id);
            w.WriteEndArray();
            w.WriteStartArray("top");
            foreach (var c in best)
            {
                w.WriteStartObject();
                w.WriteNumber("id", c.Id);
                w.WriteString("text", Formatting.TokenText(tokenizer, c.Id));
                w.WriteNumber("logit", c.Logit);
                w.WriteNumber("prob", c.Probability);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + Environment.NewLine;
    }
}
