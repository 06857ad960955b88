using Tern.Runtime;
using Tern.Training.Data;
using Tern.Training.Model;
using Tern.Training.Optimization;

namespace Tern.Training.Runs;

/// <summary>
/// <see cref="TrainingLoop"/> on the CPU: <see cref="TrainingModel{T}"/> in float and AdamW on the host. No sum depends
/// on the thread count, so the same options give the same weights on any number of threads.
/// </summary>
public sealed class Trainer : TrainingLoop
{
    private readonly WorkerPool? _pool;
    private readonly AdamW<float> _adam;

    public Trainer(TrainingOptions options, TextCorpus corpus, string outputDirectory, WorkerPool? pool)
        : base(options, corpus, outputDirectory)
    {
        _pool = pool;
        Model = new TrainingModel<float>(Layout, options.BatchSize, pool)
        {
            DropoutProbability = options.Dropout,
            AttentionDropoutProbability = options.AttentionDropout,
        };
        ParameterInitializer.Initialize(Layout, Model.Parameters, options.Seed);
        _adam = new AdamW<float>(Layout) { Beta1 = options.Beta1, Beta2 = options.Beta2, Epsilon = options.AdamEpsilon };
    }

    public TrainingModel<float> Model { get; }

    public override float[] ReadParameters() => (float[])Model.Parameters.Clone();

    protected override double ForwardBackward(TokenBatch batch, ulong dropoutKey)
    {
        Array.Clear(Model.Gradients);
        return Model.ForwardBackward(batch.Inputs, batch.Targets, Options.BatchSize, dropoutKey);
    }

    protected override double ClipGradients(double maxNorm) => GradientClipping.ClipToNorm(Model.Gradients, maxNorm);

    protected override void Update(double learningRate, double weightDecay) =>
        _adam.Update(_pool, Model.Parameters, Model.Gradients, learningRate, weightDecay);

    protected override double Evaluate(ReadOnlySpan<int> inputs, ReadOnlySpan<int> targets, int rows) => Model.Evaluate(inputs, targets, rows);

    protected override void Restore(TrainingCheckpoint checkpoint)
    {
        checkpoint.Parameters.CopyTo(Model.Parameters, 0);
        checkpoint.FirstMoment.CopyTo(_adam.FirstMoment, 0);
        checkpoint.SecondMoment.CopyTo(_adam.SecondMoment, 0);
        _adam.Step = checkpoint.Step;
    }

    protected override (float[] First, float[] Second) ReadMoments() => (_adam.FirstMoment, _adam.SecondMoment);
}
