using Tern.Training.Data;

namespace Tern.Tests.Training;

/// <summary>
/// Batches drawn from the tokens 0, 1, 2, …, n − 1, so that every token names its own position: a row's first
/// input is where its window starts.
/// </summary>
public sealed class BatchSamplerTests
{
    private static readonly int[] Positions = Enumerable.Range(0, 1000).ToArray();

    private static List<int[]> Draw(BatchSampler sampler, int batches)
    {
        var batch = new TokenBatch(sampler.BatchSize, sampler.Context);
        var drawn = new List<int[]>();
        for (int i = 0; i < batches; i++)
        {
            sampler.Next(batch);
            drawn.Add([.. batch.Inputs]);
        }

        return drawn;
    }

    [Fact]
    public void The_same_seed_gives_the_same_batches()
    {
        var first = Draw(new BatchSampler(Positions, batchSize: 4, context: 16, seed: 1337), 20);
        var second = Draw(new BatchSampler(Positions, batchSize: 4, context: 16, seed: 1337), 20);
        Assert.Equal(first, second);
    }

    [Fact]
    public void A_different_seed_gives_different_batches()
    {
        var first = Draw(new BatchSampler(Positions, batchSize: 4, context: 16, seed: 1337), 5);
        var other = Draw(new BatchSampler(Positions, batchSize: 4, context: 16, seed: 1338), 5);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void The_first_batch_of_a_seed_is_pinned()
    {
        // Changing the generator or the way starts are drawn would silently change every run's data order. The
        // numbers come from an independent Python rendering of SplitMix64 and Lemire's bounded draw.
        var batch = new TokenBatch(4, 8);
        new BatchSampler(Positions, batchSize: 4, context: 8, seed: 1337).Next(batch);
        int[] starts = [.. Enumerable.Range(0, 4).Select(row => batch.InputRow(row)[0])];
        Assert.Equal([707, 788, 202, 461], starts);
    }

    [Fact]
    public void A_restored_state_continues_the_same_sequence()
    {
        var sampler = new BatchSampler(Positions, batchSize: 3, context: 10, seed: 7);
        Draw(sampler, 5);
        ulong saved = sampler.State;
        var continuation = Draw(sampler, 5);

        var resumed = new BatchSampler(Positions, batchSize: 3, context: 10, seed: 999) { State = saved };
        Assert.Equal(continuation, Draw(resumed, 5));
    }

    [Fact]
    public void Targets_are_the_inputs_moved_on_by_one_token_and_windows_stay_inside_the_split()
    {
        int[] split = Positions[..100];
        const int context = 20;
        var sampler = new BatchSampler(split, batchSize: 8, context, seed: 5);
        var batch = new TokenBatch(8, context);
        var starts = new HashSet<int>();
        for (int i = 0; i < 500; i++)
        {
            sampler.Next(batch);
            Assert.Equal(8, batch.Rows);
            for (int row = 0; row < batch.Rows; row++)
            {
                var inputs = batch.InputRow(row);
                var targets = batch.TargetRow(row);
                int start = inputs[0];
                Assert.InRange(start, 0, split.Length - context - 1);
                for (int t = 0; t < context; t++)
                {
                    Assert.Equal(start + t, inputs[t]);
                    Assert.Equal(start + t + 1, targets[t]);
                }

                starts.Add(start);
            }
        }

        // 4000 draws over 80 possible starts reach both ends.
        Assert.Equal(split.Length - context, sampler.WindowCount);
        Assert.Contains(0, starts);
        Assert.Contains(split.Length - context - 1, starts);
    }

    [Fact]
    public void Spans_get_the_same_batches_as_a_token_batch()
    {
        var spans = new BatchSampler(Positions, batchSize: 2, context: 5, seed: 11);
        var batches = new BatchSampler(Positions, batchSize: 2, context: 5, seed: 11);
        var inputs = new int[10];
        var targets = new int[10];
        var batch = new TokenBatch(2, 5);
        spans.Next(inputs, targets);
        batches.Next(batch);
        Assert.Equal(batch.Inputs, inputs);
        Assert.Equal(batch.Targets, targets);
    }

    [Fact]
    public void A_split_without_a_whole_window_or_a_wrong_batch_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new BatchSampler(Positions.AsMemory(0, 16), batchSize: 1, context: 16, seed: 0));
        var exact = new BatchSampler(Positions.AsMemory(0, 17), batchSize: 2, context: 16, seed: 0);
        var batch = new TokenBatch(2, 16);
        exact.Next(batch);
        Assert.Equal(Positions[..16], batch.Inputs[..16]);
        Assert.Throws<ArgumentException>(() => exact.Next(new TokenBatch(2, 8)));
    }
}
