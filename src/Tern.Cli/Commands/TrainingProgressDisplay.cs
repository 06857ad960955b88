using System.Globalization;
using Spectre.Console;
using Tern.Training.Runs;

namespace Tern.Cli.Commands;

/// <summary>A progress bar with the loss, tokens/s and the time left on a terminal; one line per evaluation otherwise.</summary>
internal static class TrainingProgressDisplay
{
    public static void Run(int steps, int done, Action<IProgress<TrainingProgress>> work)
    {
        if (Console.IsErrorRedirected || Console.IsOutputRedirected)
        {
            work(new Reporter(p =>
            {
                if (p.ValidationLoss is not null)
                    Console.Error.WriteLine(Describe(p));
            }));
            return;
        }

        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("train", maxValue: steps);
                task.Value = done;
                double? lastValidation = null;
                work(new Reporter(p =>
                {
                    lastValidation = p.ValidationLoss ?? lastValidation;
                    task.Value = p.Step;
                    task.Description = Markup.Escape(Describe(p with { ValidationLoss = lastValidation }));
                }));
            });
    }

    private static string Describe(TrainingProgress p) => string.Create(CultureInfo.InvariantCulture,
        $"step {p.Step}/{p.Steps} loss {p.Loss:F4}{(p.ValidationLoss is { } v ? $" val {v:F4}" : "")} lr {p.LearningRate:G3} {p.TokensPerSecond:N0} tok/s");

    /// <summary>Reports on the training thread, in order.</summary>
    private sealed class Reporter(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
