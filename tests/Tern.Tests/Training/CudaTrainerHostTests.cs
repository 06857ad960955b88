using Tern.Training.Cuda;
using Tern.Training.Data;
using Tern.Training.Layers;
using Tern.Training.Model;
using Tern.Training.Randomness;
using Tern.Training.Runs;

namespace Tern.Tests.Training;

/// <summary>
/// The CUDA trainer's host side, on any machine: without a GPU it says why and throws nothing; its dropout test and
/// its grouping of rows for the embedding gradient are checked here against the CPU's. (What runs on the GPU is
/// checked by tests/Tern.Training.DeviceTests on a GPU machine.)
/// </summary>
public class CudaTrainerHostTests
{
    [Fact]
    public void TryCreate_without_a_gpu_explains_and_throws_nothing()
    {
        var shape = new ModelShape { VocabularySize = 256, Dim = 32, Layers = 1, Heads = 2, FfnDim = 64, Context = 16 };
        var options = new TrainingOptions { Shape = shape, BatchSize = 2, Steps = 2, EvalInterval = 1, EvalBatches = 1 };
        string text = string.Concat(Enumerable.Repeat("to be or not to be, that is the question. ", 40));
        string folder = Path.Combine(Path.GetTempPath(), "tern-cuda-host-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            string path = Path.Combine(folder, "text.txt");
            File.WriteAllText(path, text);
            var corpus = TextCorpus.Load(path, TrainingVocabulary.Bytes(), shape.Context);
            if (!CudaTrainer.TryCreate(options, corpus, Path.Combine(folder, "run"), out var trainer, out string whyNot))
            {
                Assert.Null(trainer);
                Assert.False(string.IsNullOrWhiteSpace(whyNot));
                Assert.EndsWith(".", whyNot, StringComparison.Ordinal);
                return;
            }

            // A GPU is here: two steps run and leave a loss log.
            using (trainer)
            {
                trainer.Run();
                Assert.Equal(2, trainer.Step);
                Assert.True(File.Exists(Path.Combine(folder, "run", Trainer.LossLogFileName)));
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void The_kernels_dropout_threshold_keeps_what_the_cpu_keeps()
    {
        var random = new Random(5);
        double[] probabilities = [0.1, 0.2, 0.5, 1.0 / 3, 0.999, 1e-9, random.NextDouble(), random.NextDouble()];
        foreach (double p in probabilities)
        {
            ulong threshold = DropoutThreshold.For(p);
            ulong key = CounterHash.Derive((ulong)random.NextInt64(), 3);
            for (int i = 0; i < 20_000; i++)
                Assert.Equal(Dropout.Keeps(key, i, p), DropoutThreshold.Keeps(CounterHash.Hash(key, (ulong)i), threshold));
        }

        // At the boundary itself: a hash whose top bits are exactly p·2⁵³ is kept, one below is not.
        double exact = 0.25;
        ulong boundary = DropoutThreshold.For(exact);
        Assert.True(DropoutThreshold.Keeps(boundary << 11, boundary));
        Assert.False(DropoutThreshold.Keeps((boundary - 1) << 11, boundary));
        Assert.Equal(0UL, DropoutThreshold.For(0));
    }

    [Fact]
    public void The_kernels_attention_mask_is_the_cpus()
    {
        // The kernels hash each weight's index in [batch·H, T, T], ((b·H + h)·T + i)·T + j, with the layer's key and
        // compare with the integer threshold (attention_dropout_factor, attention_dropout_bits).
        const int batch = 3, heads = 4, context = 37;
        foreach (double p in new[] { 0.1, 0.5, 0.9 })
        {
            var mask = new AttentionDropout(p, CounterHash.Derive(99, 300_010));
            ulong threshold = DropoutThreshold.For(p);
            for (int bh = 0; bh < batch * heads; bh++)
            {
                for (int i = 0; i < context; i++)
                {
                    for (int j = 0; j <= i; j++)
                    {
                        ulong kernelIndex = (((ulong)bh * context) + (ulong)i) * context + (ulong)j;
                        Assert.Equal(mask.Keeps(AttentionDropout.Counter(bh / heads, bh % heads, i, j, heads, context)),
                            DropoutThreshold.Keeps(CounterHash.Hash(mask.Key, kernelIndex), threshold));
                    }
                }
            }
        }
    }

    [Fact]
    public void Embedding_row_groups_hold_each_row_once_in_order_by_token()
    {
        var random = new Random(9);
        int[] tokens = Enumerable.Range(0, 500).Select(_ => random.Next(40)).ToArray();
        var groups = new EmbeddingRowGroups(64, tokens.Length);
        groups.Build(tokens);

        Assert.Equal(tokens.Distinct().Count(), groups.GroupCount);
        Assert.Equal(tokens.Length, groups.GroupStarts[groups.GroupCount]);
        var seen = new List<int>();
        for (int g = 0; g < groups.GroupCount; g++)
        {
            if (g > 0)
                Assert.True(groups.GroupTokens[g] > groups.GroupTokens[g - 1]);
            var rows = groups.RowOrder[groups.GroupStarts[g]..groups.GroupStarts[g + 1]];
            Assert.All(rows, r => Assert.Equal(groups.GroupTokens[g], tokens[r]));
            Assert.Equal(rows.Order(), rows);
            seen.AddRange(rows);
        }

        Assert.Equal(Enumerable.Range(0, tokens.Length), seen.Order());

        // Rebuilt for another batch, nothing of the first remains.
        groups.Build([3, 3, 1]);
        Assert.Equal(2, groups.GroupCount);
        Assert.Equal([1, 3], groups.GroupTokens[..2]);
        Assert.Equal([2, 0, 1], groups.RowOrder[..3]);
    }
}
