using Tern.Training.Data;

namespace Tern.Tests.Training;

public sealed class ValidationWindowsTests
{
    private static readonly int[] Positions = Enumerable.Range(0, 101).ToArray();

    [Fact]
    public void Consecutive_windows_predict_every_token_after_the_first_once()
    {
        var windows = new ValidationWindows(Positions, batchSize: 4, context: 10);
        var batch = new TokenBatch(4, 10);

        Assert.Equal(10, windows.WindowCount);
        Assert.Equal(3, windows.BatchCount);
        var predicted = new List<int>();
        var rows = new List<int>();
        foreach (var b in windows.Batches(batch))
        {
            rows.Add(b.Rows);
            for (int row = 0; row < b.Rows; row++)
            {
                Assert.Equal(b.InputRow(row)[1..].ToArray(), b.TargetRow(row)[..^1].ToArray());
                predicted.AddRange(b.TargetRow(row).ToArray());
            }
        }

        Assert.Equal([4, 4, 2], rows);
        Assert.Equal(Enumerable.Range(1, 100), predicted);
    }

    [Fact]
    public void Every_evaluation_sees_the_same_windows()
    {
        var windows = new ValidationWindows(Positions, batchSize: 3, context: 7);
        var first = windows.Batches(new TokenBatch(3, 7)).Select(b => b.Inputs.ToArray()).ToList();
        var second = windows.Batches(new TokenBatch(3, 7)).Select(b => b.Inputs.ToArray()).ToList();
        Assert.Equal(first, second);
    }

    [Fact]
    public void A_cap_spreads_the_windows_over_the_whole_split()
    {
        int[] tokens = Enumerable.Range(0, 10_001).ToArray();
        var windows = new ValidationWindows(tokens, batchSize: 2, context: 10, maxBatches: 5);

        Assert.Equal(1000, windows.AvailableWindows);
        Assert.Equal(10, windows.WindowCount);
        Assert.Equal(5, windows.BatchCount);
        int[] starts = [.. Enumerable.Range(0, windows.WindowCount).Select(windows.WindowStart)];
        Assert.Equal([0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000], starts);
    }

    [Fact]
    public void A_split_without_a_whole_window_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new ValidationWindows(Positions.AsMemory(0, 10), batchSize: 1, context: 10));
        Assert.Equal(1, new ValidationWindows(Positions.AsMemory(0, 11), batchSize: 4, context: 10).WindowCount);
    }
}
