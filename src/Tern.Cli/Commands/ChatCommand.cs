using System.CommandLine;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.AI;
using Spectre.Console;
using Tern.Chat;
using Tern.Inference;
using Tern.Text;

namespace Tern.Cli.Commands;

/// <summary>
/// `tern chat -m MODEL [-sys SYSTEM] [-n N] [-t T] [-c CTX] [--temp T] [--top-k K] [--top-p P] [--min-p P]
/// [--repeat-penalty R] [--seed S] [--template NAME]`: one user turn per line of stdin, each reply streamed to stdout
/// as it is generated; end of input ends the chat. The KV cache carries over between turns (through
/// <see cref="TernChatClient"/>), so a turn evaluates only its own tokens.
/// </summary>
internal static class ChatCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo>("--model", "-m") { Description = ShippedModel.OptionDescription };
        var system = new Option<string?>("--system-prompt", "-sys") { Description = "The system message." };
        var tokens = new Option<int>("--n-predict", "-n") { Description = "Most tokens per reply.", DefaultValueFactory = _ => 256 };
        var context = new Option<int?>("--ctx-size", "-c") { Description = "Context length in tokens for the whole conversation (default: the model's, at most 4096)." };
        var template = new Option<string?>("--template")
        {
            Description = $"Chat template: {string.Join(", ", ChatTemplate.All.Select(t => t.Name))} (default: the one the model file names, bitnet for bitnet-b1.58, else plain).",
        };
        var command = new Command("chat", "Chat with a model: one user message per line of standard input, each reply streamed as it is generated.")
        {
            model, system, tokens, context, template,
        };
        var samplingArguments = new SamplingArguments();
        samplingArguments.AddTo(command);
        var load = new ModelLoadOptions();
        load.AddTo(command);
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            int n = parse.GetValue(tokens);
            if (n < 1)
                throw new ArgumentException($"-n {n}: a reply needs at least one token");
            var sampling = samplingArguments.Read(parse);
            var forced = parse.GetValue(template) is { } name ? ChatTemplate.FromName(name) : null;

            using var placed = load.Read(parse);
            using var loaded = placed.Load(ShippedModel.Resolve(parse.GetValue(model)));
            int ctx = parse.GetValue(context) ?? Math.Min(loaded.Config.ContextLength, 4096);
            if (ctx < 1 || ctx > loaded.Config.ContextLength)
                throw new ArgumentException($"-c {ctx}: the context must be between 1 and the model's {loaded.Config.ContextLength} tokens");
            using var client = new TernChatClient(loaded, GgufTokenizer.Create(loaded.Metadata), new TernChatClientOptions
            {
                Template = forced,
                ContextLength = ctx,
                Sampling = sampling,
                MaxOutputTokens = n,
            });
            return Converse(client, parse.GetValue(system)).GetAwaiter().GetResult();
        }));
        return command;
    }

    private static async Task<int> Converse(TernChatClient client, string? system)
    {
        var stdout = Console.Out;
        bool interactive = !Console.IsInputRedirected;
        if (interactive)
            Console.Error.WriteLine($"{client.ModelId} on {client.Model.Backend}, {client.Template.Name} template, context of {client.ContextLength} tokens. One message per line; end of input (Ctrl+D) ends the chat.");

        var history = new List<ChatMessage>();
        if (!string.IsNullOrWhiteSpace(system))
            history.Add(new ChatMessage(ChatRole.System, system));
        int turns = 0;
        long promptTokens = 0, cachedTokens = 0, replyTokens = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            if (interactive)
            {
                stdout.Write("> ");
                stdout.Flush();
            }

            string? line = Console.In.ReadLine();
            if (line is null)
                break;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            history.Add(new ChatMessage(ChatRole.User, line));
            int needed = client.TokenizePrompt(history).Length;
            if (needed >= client.ContextLength)
                return ContextFull(client, $"the conversation is {needed} tokens and leaves no room for a reply");

            var reply = new StringBuilder();
            UsageDetails? usage = null;
            await foreach (var update in client.GetStreamingResponseAsync(history))
            {
                stdout.Write(update.Text);
                stdout.Flush();
                reply.Append(update.Text);
                foreach (var u in update.Contents.OfType<UsageContent>())
                    usage = u.Details;
            }

            stdout.WriteLine();
            history.Add(new ChatMessage(ChatRole.Assistant, reply.ToString()));
            turns++;
            long input = usage?.InputTokenCount ?? 0, output = usage?.OutputTokenCount ?? 0;
            promptTokens += input;
            cachedTokens += usage?.CachedInputTokenCount ?? 0;
            replyTokens += output;
            // The generator stops at the end of the cache: a reply that reached it was cut, and nothing can follow.
            if (input + output >= client.ContextLength)
                return ContextFull(client, "the reply was cut");
        }

        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{turns} turns; prompts: {promptTokens} tokens, {cachedTokens} from the cache, {promptTokens - cachedTokens} evaluated; replies: {replyTokens} tokens; {clock.Elapsed.TotalSeconds:F2} s"));
        return 0;
    }

    private static int ContextFull(TernChatClient client, string why)
    {
        Consoles.CreateStderr().MarkupLine($"[red]error:[/] {Markup.Escape($"the context of {client.ContextLength} tokens is full ({why}); a longer -c lets the conversation go on")}");
        return CommandErrors.BadInput;
    }
}
