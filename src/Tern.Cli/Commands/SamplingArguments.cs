using System.CommandLine;
using Tern.Inference;

namespace Tern.Cli.Commands;

/// <summary>How tokens are drawn (temperature, top-k, top-p, min-p, repeat penalty, seed): the options `run` and `chat` share.</summary>
internal sealed class SamplingArguments(string seedDescription = "Seed of the random draw (default: random).")
{
    private readonly Option<float> _temperature = new("--temp") { Description = "Temperature; 0 is greedy.", DefaultValueFactory = _ => 0.8f };
    private readonly Option<int> _topK = new("--top-k") { Description = "Keep the K most likely tokens (0: all).", DefaultValueFactory = _ => 40 };
    private readonly Option<float> _topP = new("--top-p") { Description = "Keep the most likely tokens up to probability P (1: all).", DefaultValueFactory = _ => 0.95f };
    private readonly Option<float> _minP = new("--min-p") { Description = "Drop tokens less likely than P times the best (0: none).", DefaultValueFactory = _ => 0.05f };
    private readonly Option<float> _repeatPenalty = new("--repeat-penalty") { Description = "Penalty for the last 64 tokens (1: off).", DefaultValueFactory = _ => 1f };
    private readonly Option<int?> _seed = new("--seed") { Description = seedDescription };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _temperature, _topK, _topP, _minP, _repeatPenalty, _seed })
            command.Options.Add(option);
    }

    /// <summary>The options as given, validated; a missing seed is drawn at random.</summary>
    public SamplingOptions Read(ParseResult parse)
    {
        var sampling = new SamplingOptions
        {
            Temperature = parse.GetValue(_temperature),
            TopK = parse.GetValue(_topK),
            TopP = parse.GetValue(_topP),
            MinP = parse.GetValue(_minP),
            RepeatPenalty = parse.GetValue(_repeatPenalty),
            Seed = parse.GetValue(_seed) ?? Random.Shared.Next(),
        };
        sampling.Validate();
        return sampling;
    }
}
