using System.CommandLine;
using Microsoft.Extensions.Logging;
using Tern.Chat;
using Tern.Server;

namespace Tern.Cli.Commands;

/// <summary>
/// `tern serve -m MODEL [--host 127.0.0.1] [--port 8080] [-c CTX] [--parallel N] [--queue Q] [--api-key KEY]
/// [--cors ORIGIN] [-t T] [--template NAME] [--alias NAME]`: the OpenAI-compatible server (<see cref="TernServer"/>)
/// until SIGINT or SIGTERM. Stdout gets "listening on URL" as soon as the port is bound (with the port the system
/// chose for --port 0), then "ready: …" once the model is loaded; warnings and errors go to stderr.
/// </summary>
internal static class ServeCommand
{
    /// <summary>Read when --api-key is not given, so that the key need not appear in the process list.</summary>
    public const string ApiKeyVariable = "TERN_API_KEY";

    public static Command Create()
    {
        var model = new Option<FileInfo>("--model", "-m") { Description = ShippedModel.OptionDescription };
        var host = new Option<string>("--host") { Description = "The address to listen on: an IP address or localhost (0.0.0.0 for every interface).", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "The TCP port (0: any free one, printed on stdout).", DefaultValueFactory = _ => 8080 };
        var context = new Option<int?>("--ctx-size", "-c") { Description = "Each session's context in tokens, prompt and reply (default: the model's, at most 4096)." };
        var parallel = new Option<int>("--parallel", "-np") { Description = "Requests that generate at once, taking turns on the model token by token.", DefaultValueFactory = _ => 4 };
        var queue = new Option<int>("--queue") { Description = "Requests that may wait for a session; more get 503 with Retry-After.", DefaultValueFactory = _ => 128 };
        var apiKey = new Option<string?>("--api-key") { Description = $"Require \"Authorization: Bearer KEY\" on /v1 and /metrics (default: ${ApiKeyVariable} if set, else no key)." };
        var cors = new Option<string?>("--cors") { Description = "Let pages from this origin call the API (CORS), e.g. https://example.com; off by default." };
        var template = new Option<string?>("--template")
        {
            Description = $"Chat template: {string.Join(", ", ChatTemplate.All.Select(t => t.Name))} (default: the one the model file names, bitnet for bitnet-b1.58, else plain).",
        };
        var alias = new Option<string?>("--alias") { Description = "The model's name in /v1/models and answers (default: the file's name without .gguf)." };
        var command = new Command("serve", "Serve a model over an OpenAI-compatible HTTP API (/v1/chat/completions, /v1/completions, /v1/models), with a chat page at /.")
        {
            model, host, port, context, parallel, queue, apiKey, cors, template, alias,
        };
        var load = new ModelLoadOptions();
        load.AddTo(command);
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            // The GPU, if any, outlives the server, which disposes the model it loads when it stops.
            using var placed = load.Read(parse);
            var options = new TernServerOptions
            {
                ModelPath = ShippedModel.Resolve(parse.GetValue(model)),
                Host = parse.GetValue(host)!,
                Port = parse.GetValue(port),
                ContextLength = parse.GetValue(context),
                Parallel = parse.GetValue(parallel),
                QueueLength = parse.GetValue(queue),
                ApiKey = parse.GetValue(apiKey) ?? (Environment.GetEnvironmentVariable(ApiKeyVariable) is { Length: > 0 } key ? key : null),
                CorsOrigin = parse.GetValue(cors),
                Template = parse.GetValue(template) is { } name ? ChatTemplate.FromName(name).Name : null,
                ModelId = parse.GetValue(alias),
                Model = placed.Options,
            };
            if (!File.Exists(options.ModelPath))
                throw new FileNotFoundException($"{options.ModelPath}: no such file", options.ModelPath);
            return ServeAsync(options).GetAwaiter().GetResult();
        }));
        return command;
    }

    private static async Task<int> ServeAsync(TernServerOptions options)
    {
        await using var server = TernServer.Create(options, logging => logging
            .SetMinimumLevel(LogLevel.Warning)
            .AddSimpleConsole(console => console.SingleLine = true)
            .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace));
        await server.StartAsync().ConfigureAwait(false);
        Console.Out.WriteLine($"listening on {server.Address}");
        Console.Out.Flush();
        try
        {
            await server.ModelLoaded.ConfigureAwait(false);
        }
        catch
        {
            await server.StopAsync().ConfigureAwait(false);
            throw;
        }

        Console.Out.WriteLine($"ready: {server.ModelId}, {options.Parallel} sessions of {server.ContextLength} tokens, {options.Model.Threads} threads, up to {options.QueueLength} waiting, on {server.Backend}");
        Console.Out.Flush();
        await server.WaitForShutdownAsync().ConfigureAwait(false);
        Console.Error.WriteLine("stopped");
        return 0;
    }
}
