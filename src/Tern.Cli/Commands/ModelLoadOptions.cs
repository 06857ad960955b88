using System.CommandLine;
using Tern.Gguf;
using Tern.Inference;
using Tern.Models;
using Tern.Runtime;

namespace Tern.Cli.Commands;

/// <summary>How a model is loaded (threads, the head's type): the options `run`, `bench` and `perplexity` share.</summary>
internal sealed class ModelLoadOptions
{
    private readonly Option<int> _threads = new("--threads", "-t") { Description = "Threads (default: the physical cores).", DefaultValueFactory = _ => PhysicalCores.Value };

    private readonly Option<string?> _headType = new("--head-type")
    {
        Description = "Requantize the output head at load to this type (default: as stored); the embedding lookup keeps the stored tensor.",
    };

    public ModelLoadOptions() =>
        _headType.AcceptOnlyFromAmong(HeadRequantizer.Types.Select(t => GgmlTypeTraits.NameOf(t).ToLowerInvariant()).ToArray());

    public void AddTo(Command command)
    {
        command.Options.Add(_threads);
        command.Options.Add(_headType);
    }

    public TernModelOptions Read(ParseResult parse)
    {
        int t = parse.GetValue(_threads);
        if (t < 1)
            throw new ArgumentException($"-t {t}: at least one thread is needed");
        string? head = parse.GetValue(_headType);
        return new TernModelOptions { Threads = t, HeadType = head is null ? null : Types.Parse(head, "--head-type") };
    }
}
