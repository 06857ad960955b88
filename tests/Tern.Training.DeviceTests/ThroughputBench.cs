using System.Diagnostics;
using System.Globalization;
using Tern.Cuda;
using Tern.Training.Cuda;
using Tern.Training.Model;

namespace Tern.Training.DeviceTests;

/// <summary>
/// Training throughput at tools/torch-twin/bench.py's presets (the same BitNet b1.58 model: QAT, tied embedding,
/// bfloat16 products): full steps (zero gradients, forward and backward, clip, AdamW) on random tokens, after a
/// warm-up, timed by the host clock over steps that each end by reading the loss and the norm back (so the clock
/// sees finished work). Also the forward pass alone (Evaluate), to split the step.
/// </summary>
internal static class ThroughputBench
{
    private const int WarmupSteps = 5, TimedSteps = 30;

    public static string Run(CudaContext context, KernelCompiler compiler, string size)
    {
        var (shape, batch) = size switch
        {
            "14M" => (new ModelShape { VocabularySize = 8192, Dim = 384, Layers = 6, Heads = 6, FfnDim = 1024, Context = 256 }, 64),
            "110M" => (new ModelShape { VocabularySize = 32000, Dim = 768, Layers = 12, Heads = 12, FfnDim = 2048, Context = 512 }, 16),
            _ => throw new ArgumentException($"no preset '{size}' (14M, 110M)"),
        };
        var layout = new ParameterLayout(shape);
        var initial = new float[layout.Count];
        ParameterInitializer.Initialize(layout, initial, 1);
        using var model = new CudaTrainingModel(context, layout, batch, CudaTrainingPrecision.BFloat16, compiler);
        using var adam = new CudaAdamW(model);
        model.UploadParameters(initial);
        int positions = batch * shape.Context;
        var random = new Random(0);
        var batches = Enumerable.Range(0, 4).Select(_ => Enumerable.Range(0, positions + 1).Select(_ => random.Next(shape.VocabularySize)).ToArray()).ToArray();

        double loss = 0;
        void Step(int i)
        {
            var sequence = batches[i % batches.Length];
            model.ZeroGradients();
            loss = model.ForwardBackward(sequence.AsSpan(0, positions), sequence.AsSpan(1, positions), batch);
            model.ClipGradients(1.0);
            adam.Update(1.5e-3, 0.1);
        }

        for (int i = 0; i < WarmupSteps; i++)
            Step(i);
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < TimedSteps; i++)
            Step(i);
        double stepSeconds = clock.Elapsed.TotalSeconds / TimedSteps;

        clock.Restart();
        for (int i = 0; i < TimedSteps; i++)
        {
            var sequence = batches[i % batches.Length];
            model.Evaluate(sequence.AsSpan(0, positions), sequence.AsSpan(1, positions), batch);
        }
        double forwardSeconds = clock.Elapsed.TotalSeconds / TimedSteps;
        var (free, total) = context.GetMemoryInfo();
        string breakdown = Breakdown(context, model, Step);
        return string.Create(CultureInfo.InvariantCulture,
            $"{layout.Count:N0} parameters, B×T {batch}×{shape.Context}: {stepSeconds * 1000:F2} ms/step, {positions / stepSeconds:N0} tokens/s " +
            $"(forward + loss alone {forwardSeconds * 1000:F2} ms); loss {loss:F3}; {(total - free) / (1 << 20):N0} MiB of GPU memory in use\n{breakdown}");
    }

    /// <summary>Device time per phase of a step (summed over layers), from events recorded at the model's phase marks,
    /// averaged over a few steps.</summary>
    private static string Breakdown(CudaContext context, CudaTrainingModel model, Action<int> step)
    {
        const int Steps = 3;
        var events = new List<CudaEvent>();
        var names = new List<string>();
        model.PhaseMarker = name =>
        {
            if (names.Count == events.Count)
                events.Add(new CudaEvent(context));
            events[names.Count].Record();
            names.Add(name);
        };
        var totals = new Dictionary<string, double>();
        try
        {
            for (int i = 0; i < Steps; i++)
            {
                names.Clear();
                step(i);
                model.Mark("end");
                for (int k = 0; k + 1 < names.Count; k++)
                    totals[names[k]] = totals.GetValueOrDefault(names[k]) + (CudaEvent.ElapsedMilliseconds(events[k], events[k + 1]) / Steps);
            }
        }
        finally
        {
            model.PhaseMarker = null;
            foreach (var e in events)
                e.Dispose();
        }

        double all = totals.Values.Sum();
        return string.Join("\n", totals.OrderByDescending(p => p.Value).Select(p => string.Create(CultureInfo.InvariantCulture,
            $"      {p.Key,-26} {p.Value,7:F3} ms  {100 * p.Value / all,5:F1} %"))) + string.Create(CultureInfo.InvariantCulture, $"\n      {"(marked total)",-26} {all,7:F3} ms");
    }
}
