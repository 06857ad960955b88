using System.Globalization;
using Tern.Cuda;
using Tern.Training.Cuda;
using Tern.Training.Data;
using Tern.Training.Model;
using Tern.Training.Reporting;
using Tern.Training.Runs;
using static Tern.Cuda.DeviceTests.CheckFailedException;

namespace Tern.Training.DeviceTests;

/// <summary>A few hundred steps of real BitNet b1.58 training with <see cref="CudaTrainer"/> on a text file (bytes as
/// tokens, nanoGPT's character model's shape): the validation loss must fall well below its start.</summary>
internal static class TrainingRunCheck
{
    public static string Run(CudaContext context, KernelCompiler compiler, string corpusPath)
    {
        var shape = new ModelShape { VocabularySize = 256, Dim = 384, Layers = 6, Heads = 6, FfnDim = 1024, Context = 256 };
        var options = new TrainingOptions { Shape = shape, BatchSize = 64, Steps = 300, EvalInterval = 100, EvalBatches = 4, CheckpointInterval = 0, Dropout = 0.1 };
        var corpus = TextCorpus.Load(corpusPath, TrainingVocabulary.Bytes(), shape.Context);
        string folder = Path.Combine(Path.GetTempPath(), "tern-cuda-training-check");
        if (Directory.Exists(folder))
            Directory.Delete(folder, recursive: true);
        using var trainer = new CudaTrainer(options, corpus, folder, context, CudaTrainingPrecision.BFloat16, compiler);
        double before = trainer.ValidationLoss();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        trainer.Run();
        double seconds = clock.Elapsed.TotalSeconds;
        var log = LossLog.Read(Path.Combine(folder, Trainer.LossLogFileName));
        double after = log.Last(r => r.ValidationLoss is not null).ValidationLoss!.Value;
        string curve = string.Join(", ", log.Where(r => r.ValidationLoss is not null).Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Step}: {r.ValidationLoss:F3}")));
        string detail = string.Create(CultureInfo.InvariantCulture,
            $"validation loss {before:F3} before, then {curve}; train loss {log[0].TrainLoss:F3} → {log[^1].TrainLoss:F3}; {options.Steps} steps in {seconds:F1} s ({options.Steps * options.BatchSize * shape.Context / seconds:N0} tokens/s incl. evaluation)");
        Expect(after < 0.6 * before && after < 2.6, detail);
        return detail;
    }
}
