using Tern.Runtime;
using Tern.Training.Data;
using Tern.Training.Model;
using Tern.Training.Optimization;
using Tern.Training.Runs;

namespace Tern.Tests.Training;

public class TrainerTests
{
    private static readonly Lazy<string> Shakespeare = new(() => File.ReadAllText(TestData.SharedDataPath("corpora", "tinyshakespeare", "input.txt"))[..60_000]);

    internal static TrainingOptions TinyOptions(bool quantized = true, int steps = 12) => new()
    {
        Shape = new ModelShape
        {
            VocabularySize = ByteVocabulary.Size,
            Dim = 32,
            Layers = 2,
            Heads = 2,
            KvHeads = 1,
            FfnDim = 64,
            Context = 16,
            Quantized = quantized,
        },
        BatchSize = 4,
        Steps = steps,
        EvalInterval = 4,
        EvalBatches = 2,
        CheckpointInterval = 0,
        Dropout = 0.1,
        LearningRate = 3e-3,
    };

    private static TextCorpus Corpus(int context) => TextCorpus.FromText(Shakespeare.Value, TrainingVocabulary.Bytes(), context);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Overfitting_one_batch_drives_the_loss_near_zero(bool quantized)
    {
        var shape = TinyOptions(quantized).Shape with { Dim = 64, FfnDim = 128 };
        var layout = new ParameterLayout(shape);
        var model = new TrainingModel<float>(layout, 2);
        ParameterInitializer.Initialize(layout, model.Parameters, 3);
        var corpus = Corpus(shape.Context);
        var sampler = new BatchSampler(corpus.Train, 2, shape.Context, 9);
        var batch = new TokenBatch(2, shape.Context);
        sampler.Next(batch);
        var adam = new AdamW<float>(layout);
        double first = double.NaN, loss = double.NaN;
        for (int step = 0; step < 300; step++)
        {
            Array.Clear(model.Gradients);
            loss = model.ForwardBackward(batch.Inputs, batch.Targets, 2);
            first = step == 0 ? loss : first;
            GradientClipping.ClipToNorm(model.Gradients, 1.0);
            adam.Update(null, model.Parameters, model.Gradients, 1e-2, 0);
        }

        Assert.True(first > 4, $"the untrained loss is {first}");
        Assert.True(loss < 0.05, $"after 300 steps on one batch the loss is still {loss} (from {first})");
    }

    [Fact]
    public void Training_is_deterministic_across_thread_counts_and_learns()
    {
        var options = TinyOptions(steps: 40);
        var corpus = Corpus(options.Shape.Context);
        using var one = new TempFolder();
        using var two = new TempFolder();
        var a = new Trainer(options, corpus, one.Path, null);
        a.Run();
        using var pool = new WorkerPool(2);
        var b = new Trainer(options, corpus, two.Path, pool);
        b.Run();
        Assert.Equal(a.Model.Parameters, b.Model.Parameters);
        var log = Tern.Training.Reporting.LossLog.Read(Path.Combine(one.Path, Trainer.LossLogFileName));
        Assert.Equal(40, log.Count);
        var validation = log.Where(r => r.ValidationLoss is not null).Select(r => r.ValidationLoss!.Value).ToList();
        Assert.Equal(10, validation.Count);
        Assert.True(validation[^1] < validation[0] - 0.5, $"validation loss went from {validation[0]} to {validation[^1]}");

        var c = new Trainer(options with { Seed = 2 }, corpus, Path.Combine(one.Path, "other"), null);
        c.Run();
        Assert.NotEqual(a.Model.Parameters, c.Model.Parameters);
    }

    [Fact]
    public void Attention_dropout_is_deterministic_across_thread_counts_and_left_out_of_validation()
    {
        var options = TinyOptions(steps: 4) with { AttentionDropout = 0.2, EvalInterval = 100 };
        var corpus = Corpus(options.Shape.Context);
        using var folder = new TempFolder();
        var one = new Trainer(options, corpus, Path.Combine(folder.Path, "one"), null);
        var without = new Trainer(options with { AttentionDropout = 0 }, corpus, Path.Combine(folder.Path, "without"), null);
        Assert.Equal(without.ValidationLoss(), one.ValidationLoss());
        one.Run();
        using var pool = new WorkerPool(2);
        var two = new Trainer(options, corpus, Path.Combine(folder.Path, "two"), pool);
        two.Run();
        Assert.Equal(one.Model.Parameters, two.Model.Parameters);
        without.Run();
        Assert.NotEqual(without.Model.Parameters, one.Model.Parameters);
    }

    [Fact]
    public void A_stopped_run_resumes_to_the_same_weights()
    {
        var options = TinyOptions(steps: 10);
        var corpus = Corpus(options.Shape.Context);
        using var straight = new TempFolder();
        var whole = new Trainer(options, corpus, straight.Path, null);
        whole.Run();

        using var stopped = new TempFolder();
        var first = new Trainer(options, corpus, stopped.Path, null);
        using var cancel = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() => first.Run(new Stop(p => { if (p.Step == 6) cancel.Cancel(); }), cancel.Token));
        Assert.Equal(6, first.Step);

        var second = new Trainer(options, corpus, stopped.Path, null);
        second.Resume();
        Assert.Equal(6, second.Step);
        second.Run();
        Assert.Equal(whole.Model.Parameters, second.Model.Parameters);
        var log = Tern.Training.Reporting.LossLog.Read(Path.Combine(stopped.Path, Trainer.LossLogFileName));
        Assert.Equal(Enumerable.Range(1, 10), log.Select(r => r.Step));
    }

    [Fact]
    public void A_diverging_run_stops_with_a_message_and_keeps_the_last_checkpoint()
    {
        var options = TinyOptions(steps: 30) with { LearningRate = 1e30, WarmupSteps = 0, CheckpointInterval = 1, GradientClip = 0 };
        var corpus = Corpus(options.Shape.Context);
        using var folder = new TempFolder();
        var trainer = new Trainer(options, corpus, folder.Path, null);
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Run());
        Assert.Contains("step ", e.Message);
        Assert.Contains(Trainer.CheckpointFileName, e.Message);
        var layout = new ParameterLayout(options.Shape);
        var saved = TrainingCheckpoint.Load(Path.Combine(folder.Path, Trainer.CheckpointFileName), layout);
        Assert.Equal(trainer.Step, saved.Step);
        Assert.All(saved.Parameters, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Checkpoints_refuse_a_different_shape()
    {
        var options = TinyOptions(steps: 2);
        var corpus = Corpus(options.Shape.Context);
        using var folder = new TempFolder();
        new Trainer(options, corpus, folder.Path, null).Run();
        var other = new Trainer(options with { Shape = options.Shape with { Dim = 64 } }, corpus, folder.Path, null);
        var e = Assert.Throws<InvalidDataException>(other.Resume);
        Assert.Contains("parameters", e.Message);
    }

    [Fact]
    public void Checkpoints_refuse_other_dropout_probabilities()
    {
        var options = TinyOptions(steps: 2) with { AttentionDropout = 0.1 };
        var corpus = Corpus(options.Shape.Context);
        using var folder = new TempFolder();
        new Trainer(options, corpus, folder.Path, null).Run();
        var saved = TrainingCheckpoint.Load(Path.Combine(folder.Path, Trainer.CheckpointFileName), new ParameterLayout(options.Shape));
        Assert.Equal((0.1, 0.1), (saved.Dropout, saved.AttentionDropout));
        new Trainer(options, corpus, folder.Path, null).Resume();
        foreach (var (other, flag) in new[] { (options with { AttentionDropout = 0 }, "--attention-dropout"), (options with { Dropout = 0.2 }, "--dropout") })
        {
            var e = Assert.Throws<ArgumentException>(new Trainer(other, corpus, folder.Path, null).Resume);
            Assert.Contains(flag, e.Message);
        }
    }

    private sealed class Stop(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
