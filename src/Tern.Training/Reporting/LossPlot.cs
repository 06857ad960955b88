using ScottPlot;
using SkiaSharp;

namespace Tern.Training.Reporting;

/// <summary>
/// A PNG of training and validation loss for one or more runs (ScottPlot, drawn by Skia on the CPU, so it needs
/// no display). Each run has one colour: its training loss dashed, its validation loss solid with a marker at
/// each evaluation. Points that are not finite (a diverged step) are left out rather than stretching the axis.
/// </summary>
/// <remarks>Skia is used without fontconfig (SkiaSharp.NativeAssets.Linux.NoDependencies): it reads the font files
/// under /usr/share/fonts itself. On a machine with none, the plot is still written, without any text; see
/// <see cref="CanDrawText"/>.</remarks>
public static class LossPlot
{
    // ScottPlot asks for Windows' and macOS's fonts first, and Skia without fontconfig answers a missing family with
    // whichever font it found first (often a serif); so a sans-serif font is looked for by name.
    private static readonly string[] PreferredFonts = ["DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial", "Helvetica", "Segoe UI"];

    /// <summary>Whether any font is installed for the plot's title, labels and legend (fonts-dejavu-core on Debian).</summary>
    public static bool CanDrawText => InstalledFonts.Value.Length > 0;

    private static readonly Lazy<string[]> InstalledFonts = new(FindInstalledFonts);

    private static string[] FindInstalledFonts()
    {
        try
        {
            return [.. SKFontManager.Default.FontFamilies.Where(f => !string.IsNullOrEmpty(f))];
        }
        catch (Exception e) when (MissingNativeLibrary(e) is not null)
        {
            // Without Skia there is no text either; Write reports the missing library.
            return [];
        }
    }

    /// <summary>Writes the plot to <paramref name="path"/> through a temporary file, so a reader never sees half an image.</summary>
    public static void Write(string path, IReadOnlyList<LossRun> runs, LossPlotOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(runs);
        options ??= new LossPlotOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Width, 1, nameof(options.Width));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Height, 1, nameof(options.Height));

        byte[] png;
        try
        {
            using var plot = Draw(runs, options);
            png = plot.GetImageBytes(options.Width, options.Height, ImageFormat.Png);
        }
        catch (Exception e) when (MissingNativeLibrary(e) is { } missing)
        {
            // Skia's own error arrives two type initializers deep, as "a type initializer threw an exception".
            throw new InvalidOperationException(
                $"{path}: cannot draw the loss plot: {missing.Message} Skia's native libraries (libSkiaSharp, libHarfBuzzSharp) are published beside Tern and must stay with it.", e);
        }

        string temporary = path + ".tmp";
        File.WriteAllBytes(temporary, png);
        File.Move(temporary, path, overwrite: true);
    }

    private static Plot Draw(IReadOnlyList<LossRun> runs, LossPlotOptions options)
    {
        var plot = new Plot();
        if (PreferredFonts.FirstOrDefault(f => InstalledFonts.Value.Contains(f, StringComparer.OrdinalIgnoreCase)) is { } font)
            plot.Font.Set(font);
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < runs.Count; i++)
        {
            var run = runs[i];
            var color = palette.GetColor(i);

            var (trainX, trainY) = Points(run.Records, options.XAxis, r => r.TrainLoss);
            if (trainX.Length > 0)
            {
                var train = plot.Add.ScatterLine(trainX, trainY, color);
                train.LinePattern = LinePattern.Dashed;
                train.LineWidth = 1.5f;
                train.LegendText = $"{run.Label} train";
            }

            var (validationX, validationY) = Points(run.Records, options.XAxis, r => r.ValidationLoss);
            if (validationX.Length > 0)
            {
                var validation = plot.Add.Scatter(validationX, validationY, color);
                validation.LineWidth = 2;
                validation.MarkerSize = 6;
                validation.LegendText = $"{run.Label} validation";
            }
        }

        plot.Title(options.Title);
        plot.XLabel(options.XAxis == LossAxis.Tokens ? "tokens" : "step");
        plot.YLabel("loss (nats per token)");
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }

    private static DllNotFoundException? MissingNativeLibrary(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is DllNotFoundException missing)
                return missing;
        }

        return null;
    }

    private static (double[] X, double[] Y) Points(IReadOnlyList<LossRecord> records, LossAxis axis, Func<LossRecord, double?> loss)
    {
        var x = new List<double>(records.Count);
        var y = new List<double>(records.Count);
        foreach (var record in records)
        {
            if (loss(record) is { } value && double.IsFinite(value))
            {
                x.Add(axis == LossAxis.Tokens ? record.Tokens : record.Step);
                y.Add(value);
            }
        }

        return ([.. x], [.. y]);
    }
}
