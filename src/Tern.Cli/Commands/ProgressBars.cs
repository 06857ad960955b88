using Spectre.Console;
using Tern.Conversion;

namespace Tern.Cli.Commands;

/// <summary>A Spectre progress bar over bytes written, drawn only when stderr is a terminal (scripts get clean output).</summary>
internal static class ProgressBars
{
    public static void Run(string title, Action<IProgress<ConversionProgress>> work)
    {
        if (Console.IsErrorRedirected || Console.IsOutputRedirected)
        {
            work(new Progress<ConversionProgress>(_ => { }));
            return;
        }

        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(title, maxValue: 1);
                work(new SynchronousProgress(p =>
                {
                    task.MaxValue = Math.Max(1, p.TotalBytes);
                    task.Value = p.BytesWritten;
                    task.Description = $"{title} [grey]{Markup.Escape(p.LastTensor)}[/] ({p.TensorsWritten}/{p.TensorCount})";
                }));
                task.Value = task.MaxValue;
            });
    }

    /// <summary>Reports on the caller's thread (Progress&lt;T&gt; would post to the thread pool and race the bar's end).</summary>
    private sealed class SynchronousProgress(Action<ConversionProgress> report) : IProgress<ConversionProgress>
    {
        public void Report(ConversionProgress value) => report(value);
    }
}
