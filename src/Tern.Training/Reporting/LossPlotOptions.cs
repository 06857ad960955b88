namespace Tern.Training.Reporting;

/// <summary>How <see cref="LossPlot"/> draws: title, horizontal axis and the image size in pixels.</summary>
public sealed record LossPlotOptions
{
    public string Title { get; init; } = "Loss";

    public LossAxis XAxis { get; init; } = LossAxis.Step;

    public int Width { get; init; } = 1200;

    public int Height { get; init; } = 750;
}
