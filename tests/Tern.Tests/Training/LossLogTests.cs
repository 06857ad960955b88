using Tern.Training.Reporting;

namespace Tern.Tests.Training;

public sealed class LossLogTests : IDisposable
{
    private readonly TempFolder _folder = TestData.NewTempFolder();

    public void Dispose() => _folder.Dispose();

    private static LossRecord Row(int step, double? validation = null) =>
        new(step, step * 4096L, 4.0 / step + 0.1, validation, 1.5e-3 * step / 100, 0.75 + step / 3.0, 12_345.678, step * 0.25);

    [Fact]
    public void Rows_read_back_exactly_with_the_documented_header()
    {
        string path = _folder.File("loss.csv");
        LossRecord[] rows = [Row(1), Row(2, validation: 3.3333333333333335), Row(3), new(4, 16384, double.NaN, null, 0, double.PositiveInfinity, 0, 1)];
        using (var log = LossLog.Create(path))
        {
            foreach (var row in rows)
                log.Append(row);
            Assert.Equal(4, log.LastStep);
        }

        string[] lines = File.ReadAllLines(path);
        Assert.Equal("step,tokens,train_loss,val_loss,lr,grad_norm,tokens_per_s,elapsed_s", lines[0]);
        Assert.Equal("1,4096,4.1,,1.5E-05,1.0833333333333333,12345.678,0.25", lines[1]);
        Assert.Equal(rows, LossLog.Read(path));
    }

    [Fact]
    public void Each_row_is_on_disk_as_soon_as_it_is_appended()
    {
        string path = _folder.File("loss.csv");
        using var log = LossLog.Create(path);
        log.Append(Row(1));

        Assert.Equal([Row(1)], LossLog.Read(path));
    }

    [Fact]
    public void Resuming_drops_the_rows_after_the_checkpoint_and_appends_after_it()
    {
        string path = _folder.File("loss.csv");
        using (var log = LossLog.Create(path))
        {
            for (int step = 1; step <= 10; step++)
                log.Append(Row(step, step % 5 == 0 ? 2.5 : null));
        }

        using (var resumed = LossLog.Resume(path, step: 6))
        {
            Assert.Equal(6, resumed.LastStep);
            resumed.Append(Row(7, 2.25));
        }

        var rows = LossLog.Read(path);
        Assert.Equal([1, 2, 3, 4, 5, 6, 7], rows.Select(r => r.Step));
        Assert.Equal(2.25, rows[^1].ValidationLoss);
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Fact]
    public void Resuming_drops_a_last_line_cut_short_by_a_crash()
    {
        string path = _folder.File("loss.csv");
        using (var log = LossLog.Create(path))
        {
            log.Append(Row(1));
            log.Append(Row(2));
        }

        File.AppendAllText(path, "3,12288,1.2");
        Assert.Throws<InvalidDataException>(() => LossLog.Read(path));

        using (var resumed = LossLog.Resume(path, step: 100))
            resumed.Append(Row(3));
        Assert.Equal([Row(1), Row(2), Row(3)], LossLog.Read(path));
    }

    [Fact]
    public void Resuming_without_a_log_starts_one()
    {
        string path = _folder.File("new.csv");
        using (var log = LossLog.Resume(path, step: 50))
        {
            Assert.Equal(0, log.LastStep);
            log.Append(Row(51));
        }

        Assert.Equal([Row(51)], LossLog.Read(path));
    }

    [Fact]
    public void A_file_that_is_not_a_loss_log_is_named()
    {
        string path = _folder.File("other.csv");
        File.WriteAllText(path, "a,b,c\n1,2,3\n");
        var e = Assert.Throws<InvalidDataException>(() => LossLog.Read(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => LossLog.Resume(path, 1));

        File.WriteAllText(path, LossLog.Header + "\n1,4096,x,,0,0,0,0\n");
        var bad = Assert.Throws<InvalidDataException>(() => LossLog.Read(path));
        Assert.Contains("line 2", bad.Message, StringComparison.Ordinal);
        Assert.Contains("train_loss", bad.Message, StringComparison.Ordinal);
    }
}
