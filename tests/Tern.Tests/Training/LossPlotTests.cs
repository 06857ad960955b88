using System.Buffers.Binary;
using Tern.Training.Reporting;

namespace Tern.Tests.Training;

public sealed class LossPlotTests : IDisposable
{
    private readonly TempFolder _folder = TestData.NewTempFolder();

    public void Dispose() => _folder.Dispose();

    private static List<LossRecord> Curve(double scale) =>
        [.. Enumerable.Range(1, 200).Select(step => new LossRecord(
            step, step * 8192L, scale * (1.5 + 4 / Math.Sqrt(step)), step % 25 == 0 ? scale * (1.6 + 4 / Math.Sqrt(step)) : null,
            1e-3, 1, 50_000, step * 0.5))];

    [Fact]
    public void Two_runs_make_a_png_of_the_requested_size()
    {
        string path = _folder.File("loss.png");
        LossRun[] runs = [new("BitNet b1.58", Curve(1.1)), new("full precision", Curve(1.0))];

        LossPlot.Write(path, runs, new LossPlotOptions { Title = "stories, 4 layers", Width = 900, Height = 500 });

        AssertPng(path, 900, 500);
        Assert.Equal([Path.GetFileName(path)], Directory.GetFiles(_folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void Tokens_on_the_axis_runs_read_from_csv_and_unplottable_points_are_fine()
    {
        string csv = _folder.File("loss.csv");
        using (var log = LossLog.Create(csv))
        {
            foreach (var row in Curve(1))
                log.Append(row);
            log.Append(new LossRecord(201, 201 * 8192L, double.NaN, double.PositiveInfinity, 1e-3, double.NaN, 0, 100));
        }

        string path = _folder.File("tokens.png");
        LossPlot.Write(path, [LossRun.FromCsv("run", csv), new("no rows yet", [])], new LossPlotOptions { XAxis = LossAxis.Tokens });

        AssertPng(path, new LossPlotOptions().Width, new LossPlotOptions().Height);
    }

    [Fact]
    public void An_existing_plot_is_replaced()
    {
        string path = _folder.File("loss.png");
        File.WriteAllText(path, "old");
        LossPlot.Write(path, [new("run", Curve(1))], new LossPlotOptions { Width = 320, Height = 240 });
        AssertPng(path, 320, 240);
    }

    /// <summary>The PNG signature, then the IHDR chunk first with the image's width and height (big-endian).</summary>
    private static void AssertPng(string path, int width, int height)
    {
        byte[] png = File.ReadAllBytes(path);
        Assert.True(png.Length > 33, $"{path} has {png.Length} bytes");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        Assert.Equal(13u, BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(8)));
        Assert.Equal("IHDR"u8.ToArray(), png[12..16]);
        Assert.Equal((uint)width, BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(16)));
        Assert.Equal((uint)height, BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(20)));
    }
}
