using System.Globalization;
using Tern.Cuda;
using Tern.Runtime;
using Tern.Training.Cuda;
using Tern.Training.Model;
using Tern.Training.Optimization;

namespace Tern.Training.DeviceTests;

/// <summary>
/// One training step of the same model from the same weights and batch on the CPU (TrainingModel&lt;float&gt;, AdamW)
/// and on the GPU (CudaTrainingModel, CudaAdamW), compared by relative norm ‖gpu − cpu‖ / ‖cpu‖: the logits, the loss,
/// every gradient before clipping, the gradient norm, and each tensor's update (new − initial weights).
/// </summary>
internal sealed record StepComparison(double Logits, double Loss, double WorstGradient, string WorstGradientName,
    double GradientNorm, double WorstStep, string WorstStepName, float[] GpuLogits, float[] GpuGradients, float[] GpuUpdated, double GpuLoss)
{
    /// <summary>How far the CPU's own float32 step is from its float64 step (logits, worst gradient): with quantization
    /// on, summation order alone flips some rounded codes, and this says how much that moves things for this model.</summary>
    public (double Logits, double WorstGradient)? CpuFloatVersusDouble { get; init; }

    public static StepComparison Run(CudaContext context, KernelCompiler compiler, WorkerPool pool, CudaTrainingPrecision precision,
        ParameterLayout layout, int batch, float[] initial, int[] tokens, int[] targets, double learningRate, double weightDecay,
        double dropout, ulong dropoutKey, bool withDoubleBaseline = false, double attentionDropout = 0)
    {
        var shape = layout.Shape;
        int positions = batch * shape.Context;

        var cpu = new TrainingModel<float>(layout, batch, pool) { DropoutProbability = dropout, AttentionDropoutProbability = attentionDropout };
        initial.CopyTo(cpu.Parameters, 0);
        var cpuLogits = new float[positions * shape.VocabularySize];
        cpu.ComputeLogits(tokens, batch, cpuLogits);
        double cpuLoss = cpu.ForwardBackward(tokens, targets, batch, dropoutKey);
        float[] cpuGradients = (float[])cpu.Gradients.Clone();
        double cpuNorm = GradientClipping.ClipToNorm(cpu.Gradients, 1.0);
        new AdamW<float>(layout).Update(pool, cpu.Parameters, cpu.Gradients, learningRate, weightDecay);

        using var gpu = new CudaTrainingModel(context, layout, batch, precision, compiler)
        {
            DropoutProbability = dropout,
            AttentionDropoutProbability = attentionDropout,
        };
        using var adam = new CudaAdamW(gpu);
        gpu.UploadParameters(initial);
        var gpuLogits = new float[cpuLogits.Length];
        gpu.ComputeLogits(tokens, batch, gpuLogits);
        gpu.ZeroGradients();
        double gpuLoss = gpu.ForwardBackward(tokens, targets, batch, dropoutKey);
        var gpuGradients = new float[layout.Count];
        gpu.DownloadGradients(gpuGradients);
        double gpuNorm = gpu.ClipGradients(1.0);
        adam.Update(learningRate, weightDecay);
        var gpuUpdated = new float[layout.Count];
        gpu.DownloadParameters(gpuUpdated);

        (double, double)? baseline = null;
        if (withDoubleBaseline)
        {
            var exact = new TrainingModel<double>(layout, batch, pool) { DropoutProbability = dropout, AttentionDropoutProbability = attentionDropout };
            for (int i = 0; i < initial.Length; i++)
                exact.Parameters[i] = initial[i];
            var exactLogits = new double[cpuLogits.Length];
            exact.ComputeLogits(tokens, batch, exactLogits);
            exact.ForwardBackward(tokens, targets, batch, dropoutKey);
            var exactGradients = Array.ConvertAll(exact.Gradients, v => (float)v);
            baseline = (Relative(cpuLogits, Array.ConvertAll(exactLogits, v => (float)v)),
                Worst(layout, t => Relative(t.Slice(cpuGradients), t.Slice(exactGradients))).Value);
        }

        var (worstGradient, gradientName) = Worst(layout, t => Relative(t.Slice(gpuGradients), t.Slice(cpuGradients)));
        var (worstStep, stepName) = Worst(layout, t => RelativeStep(t.Slice(gpuUpdated), t.Slice(cpu.Parameters), t.Slice(initial)));
        return new StepComparison(Relative(gpuLogits, cpuLogits), Math.Abs(gpuLoss - cpuLoss) / Math.Abs(cpuLoss), worstGradient, gradientName,
            Math.Abs(gpuNorm - cpuNorm) / cpuNorm, worstStep, stepName, gpuLogits, gpuGradients, gpuUpdated, gpuLoss)
        {
            CpuFloatVersusDouble = baseline,
        };
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"logits {Logits:E1}, loss {Loss:E1}, gradients ≤ {WorstGradient:E1} ({WorstGradientName}), norm {GradientNorm:E1}, updates ≤ {WorstStep:E1} ({WorstStepName})")
        + (CpuFloatVersusDouble is { } b ? string.Create(CultureInfo.InvariantCulture, $"; CPU float32 vs float64 itself: logits {b.Logits:E1}, gradients ≤ {b.WorstGradient:E1}") : "");

    public static double Relative(ReadOnlySpan<float> got, ReadOnlySpan<float> want)
    {
        double difference = 0, norm = 0;
        for (int i = 0; i < want.Length; i++)
        {
            if (float.IsNaN(got[i]))
                return double.NaN;
            double d = (double)got[i] - want[i];
            difference += d * d;
            norm += (double)want[i] * want[i];
        }

        return norm == 0 ? Math.Sqrt(difference) : Math.Sqrt(difference / norm);
    }

    private static double RelativeStep(ReadOnlySpan<float> got, ReadOnlySpan<float> want, ReadOnlySpan<float> initial)
    {
        var gotStep = new float[got.Length];
        var wantStep = new float[got.Length];
        for (int i = 0; i < got.Length; i++)
        {
            gotStep[i] = got[i] - initial[i];
            wantStep[i] = want[i] - initial[i];
        }

        return Relative(gotStep, wantStep);
    }

    private static (double Value, string Name) Worst(ParameterLayout layout, Func<ParameterTensor, double> measure)
    {
        double worst = 0;
        string name = "";
        foreach (var tensor in layout.Tensors)
        {
            double value = measure(tensor);
            if (double.IsNaN(value))
                return (double.NaN, tensor.Name);
            if (value >= worst)
                (worst, name) = (value, tensor.Name);
        }

        return (worst, name);
    }
}
