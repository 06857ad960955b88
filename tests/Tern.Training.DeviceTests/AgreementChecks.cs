using System.Globalization;
using Tern.Cuda;
using Tern.Cuda.DeviceTests;
using Tern.Runtime;
using Tern.Tests.Training;
using Tern.Training.Cuda;
using Tern.Training.Model;
using Tern.Training.Randomness;
using static Tern.Cuda.DeviceTests.CheckFailedException;

namespace Tern.Training.DeviceTests;

/// <summary>
/// CPU and CUDA take the same step: on the PyTorch twin's four fixtures (bitnet-b1.58 and llama, QAT and full
/// precision; each also compared with PyTorch's float64 numbers) and on larger random models with grouped key/value
/// heads and dropout, with and without attention dropout, in both operand precisions. Float32 products must agree within float32 rounding; bfloat16
/// products within what rounding the operands to 8 bits of mantissa gives.
/// </summary>
internal static class AgreementChecks
{
    /// <summary>The bounds a step must meet, by precision: logits, loss, each gradient, the norm, each tensor's update.</summary>
    private static readonly Dictionary<CudaTrainingPrecision, (double Logits, double Loss, double Gradient, double Norm, double Step)> Bounds = new()
    {
        [CudaTrainingPrecision.Float32] = (1e-4, 1e-5, 1e-3, 1e-4, 2e-2),
        // A first AdamW step moves each weight by about ±lr (the sign of its gradient), so the updates of weights whose
        // gradients are near zero follow the rounding of those gradients: the update bound is loose in bfloat16.
        [CudaTrainingPrecision.BFloat16] = (3e-2, 2e-3, 5e-2, 2e-2, 5e-1),
    };

    public static void Run(DeviceCheckRunner runner, CudaContext context, KernelCompiler compiler, int seed)
    {
        using var pool = new WorkerPool(Math.Max(1, Environment.ProcessorCount));
        foreach (var precision in new[] { CudaTrainingPrecision.Float32, CudaTrainingPrecision.BFloat16 })
        {
            foreach (string file in TwinFixture.FileNames)
                runner.Run($"{Name(precision)}: {file} step agrees with the CPU", () => Fixture(context, compiler, pool, precision, file));
        }

        var bitnet = new ModelShape
        {
            Architecture = TrainingArchitecture.BitNetB158, VocabularySize = 512, Dim = 256, Layers = 2, Heads = 8, KvHeads = 4,
            FfnDim = 512, Context = 128,
        };
        var llama = new ModelShape
        {
            Architecture = TrainingArchitecture.Llama, VocabularySize = 300, Dim = 192, Layers = 2, Heads = 6, KvHeads = 2,
            FfnDim = 384, Context = 96, TiedEmbedding = false, Quantized = false,
        };
        // Head size 32: bf16 takes the flash kernels, float32 the batched products around the softmax kernel.
        foreach (var precision in new[] { CudaTrainingPrecision.Float32, CudaTrainingPrecision.BFloat16 })
        {
            foreach (var (shape, batch, attentionDropout) in new[]
            {
                (bitnet, 8, 0.0), (bitnet with { Quantized = false }, 4, 0.0), (llama, 6, 0.0), (llama with { Quantized = true }, 4, 0.0),
                (bitnet with { Quantized = false }, 4, 0.2), (llama, 6, 0.2),
            })
            {
                string what = $"{Name(precision)}: random {shape.Architecture.GgufName()} {(shape.Quantized ? "QAT" : "fp")} D{shape.Dim} H{shape.Heads}/{shape.KeyValueHeads} T{shape.Context} B{batch}, dropout 0.1"
                    + (attentionDropout > 0 ? string.Create(CultureInfo.InvariantCulture, $", attention dropout {attentionDropout}") : "");
                runner.Run(what, () => RandomModel(context, compiler, pool, precision, shape, batch, seed, attentionDropout));
            }
        }
    }

    /// <summary>The flash attention kernels against the batched products around the softmax kernel, both in bfloat16,
    /// on the same model: a check of the flash kernels alone (ragged last tiles, grouped key/value heads, dropout), without
    /// and with attention dropout (the same mask in both paths).</summary>
    public static void RunFlash(DeviceCheckRunner runner, CudaContext context, KernelCompiler compiler, int seed)
    {
        var bitnet = new ModelShape
        {
            Architecture = TrainingArchitecture.BitNetB158, VocabularySize = 300, Dim = 256, Layers = 2, Heads = 4, KvHeads = 2,
            FfnDim = 512, Context = 200, Quantized = false,
        };
        var llama = new ModelShape
        {
            Architecture = TrainingArchitecture.Llama, VocabularySize = 300, Dim = 128, Layers = 2, Heads = 8, KvHeads = 8,
            FfnDim = 256, Context = 64, Quantized = false,
        };
        // Grouped heads take rope_backward_unpermute; one head per key/value head lets the flash kernels write the QKV
        // gradient operands themselves (both RoPE pairings are covered: bitnet-b1.58 halves, llama adjacent pairs).
        foreach (var (shape, batch) in new[]
        {
            (bitnet, 3), (llama, 4), (bitnet with { Dim = 128, Heads = 8, KvHeads = 4, Context = 130 }, 2),
            (bitnet with { Dim = 128, Heads = 4, KvHeads = 4, Context = 100 }, 2),
        })
        {
            foreach (double attentionDropout in new[] { 0.0, 0.2 })
            {
                runner.Run($"bf16 flash attention vs batched products: {shape.Architecture.GgufName()} hd {shape.HeadDim} H{shape.Heads}/{shape.KeyValueHeads} T{shape.Context} B{batch}"
                    + (attentionDropout > 0 ? string.Create(CultureInfo.InvariantCulture, $", attention dropout {attentionDropout}") : ""),
                    () => FlashVersusProducts(context, compiler, shape, batch, seed, attentionDropout));
            }
        }
    }

    private static string FlashVersusProducts(CudaContext context, KernelCompiler compiler, ModelShape shape, int batch, int seed, double attentionDropout)
    {
        var layout = new ParameterLayout(shape);
        var initial = new float[layout.Count];
        ParameterInitializer.Initialize(layout, initial, (ulong)seed);
        var random = new Random(seed);
        int positions = batch * shape.Context;
        var tokens = Enumerable.Range(0, positions).Select(_ => random.Next(shape.VocabularySize)).ToArray();
        var targets = Enumerable.Range(0, positions).Select(_ => random.Next(shape.VocabularySize)).ToArray();
        (float[] Logits, double Loss, float[] Gradients) Step(bool flash)
        {
            using var model = new CudaTrainingModel(context, layout, batch, CudaTrainingPrecision.BFloat16, compiler, flash)
            {
                DropoutProbability = 0.1,
                AttentionDropoutProbability = attentionDropout,
            };
            Expect(model.FlashAttention == flash, "the model did not take the attention path asked for");
            model.UploadParameters(initial);
            var logits = new float[positions * shape.VocabularySize];
            model.ComputeLogits(tokens, batch, logits);
            double loss = model.ForwardBackward(tokens, targets, batch, 99);
            var gradients = new float[layout.Count];
            model.DownloadGradients(gradients);
            return (logits, loss, gradients);
        }

        var flash = Step(true);
        var products = Step(false);
        double logitsDifference = StepComparison.Relative(flash.Logits, products.Logits);
        double worst = 0;
        string worstName = "";
        foreach (var tensor in layout.Tensors)
        {
            double r = StepComparison.Relative(tensor.Slice(flash.Gradients), tensor.Slice(products.Gradients));
            if (double.IsNaN(r) || r >= worst)
                (worst, worstName) = (r, tensor.Name);
        }

        string detail = string.Create(CultureInfo.InvariantCulture,
            $"logits {logitsDifference:E1}, loss {Math.Abs(flash.Loss - products.Loss) / products.Loss:E1}, gradients ≤ {worst:E1} ({worstName})");
        Expect(logitsDifference <= 1e-2 && worst <= 3e-2 && Math.Abs(flash.Loss - products.Loss) <= 1e-3 * products.Loss, detail);
        return detail;
    }

    private static string Name(CudaTrainingPrecision precision) => precision == CudaTrainingPrecision.Float32 ? "float32" : "bf16";

    private static string Fixture(CudaContext context, KernelCompiler compiler, WorkerPool pool, CudaTrainingPrecision precision, string file)
    {
        var twin = TwinFixture.Load(file);
        var c = twin.Config;
        var shape = new ModelShape
        {
            Architecture = TrainingArchitectures.Parse(c.Arch), VocabularySize = c.Vocab, Dim = c.Dim, Layers = c.Layers, Heads = c.Heads,
            KvHeads = c.KvHeads, FfnDim = c.Ffn, Context = c.Ctx, RopeTheta = (float)c.RopeTheta, NormEpsilon = (float)c.Eps,
            TiedEmbedding = c.Tied, Quantized = c.Quantized,
        };
        var layout = new ParameterLayout(shape);
        var initial = new float[layout.Count];
        foreach (var tensor in layout.Tensors)
            twin.Initial(tensor.Name).Data.CopyTo(tensor.Slice(initial));
        var result = StepComparison.Run(context, compiler, pool, precision, layout, c.Batch, initial, twin.Tokens, twin.Targets, c.LearningRate, c.WeightDecay, 0, 0);

        double torchLogits = StepComparison.Relative(result.GpuLogits, twin.Logits.Data);
        double torchGradients = layout.Tensors.Max(t => StepComparison.Relative(t.Slice(result.GpuGradients), twin.Gradient(t.Name).Data));
        string detail = result + string.Create(CultureInfo.InvariantCulture,
            $"; vs PyTorch float64: logits {torchLogits:E1}, loss {Math.Abs(result.GpuLoss - twin.Loss) / twin.Loss:E1}, gradients ≤ {torchGradients:E1}");
        Check(result, precision, detail);
        return detail;
    }

    private static string RandomModel(CudaContext context, KernelCompiler compiler, WorkerPool pool, CudaTrainingPrecision precision, ModelShape shape, int batch, int seed,
        double attentionDropout)
    {
        var layout = new ParameterLayout(shape);
        var initial = new float[layout.Count];
        ParameterInitializer.Initialize(layout, initial, (ulong)seed);
        var random = new Random(seed);
        foreach (var tensor in layout.Tensors.Where(t => t.Kind == ParameterKind.Norm))
        {
            // Norm weights of 1 would hide a norm weight applied in the wrong place.
            foreach (ref float w in tensor.Slice(initial))
                w = 1f + (0.2f * ((float)random.NextDouble() - 0.5f));
        }

        int positions = batch * shape.Context;
        var tokens = new int[positions];
        var targets = new int[positions];
        for (int i = 0; i < positions; i++)
        {
            tokens[i] = random.Next(shape.VocabularySize);
            targets[i] = random.Next(shape.VocabularySize);
        }

        // Random QAT weights and activations sit anywhere, also at rounding boundaries, where summation order alone
        // flips a code: such a model is held to the distance between the CPU's own float32 and float64 steps.
        bool flips = shape.Quantized && precision == CudaTrainingPrecision.Float32;
        var result = StepComparison.Run(context, compiler, pool, precision, layout, batch, initial, tokens, targets, 1e-3, 0.1, 0.1,
            CounterHash.Derive((ulong)seed, 77), withDoubleBaseline: flips, attentionDropout: attentionDropout);
        string detail = result.ToString();
        if (flips)
        {
            var (logits, gradient) = result.CpuFloatVersusDouble!.Value;
            Expect(result.Logits <= Math.Max(1e-4, 4 * logits) && result.WorstGradient <= Math.Max(1e-3, 4 * gradient) && result.Loss <= 1e-4
                && result.GradientNorm <= 1e-3 && result.WorstStep <= Bounds[CudaTrainingPrecision.BFloat16].Step, detail + " (bounds: 4× the CPU's own)");
            return detail;
        }

        Check(result, precision, detail);
        return detail;
    }

    private static void Check(StepComparison result, CudaTrainingPrecision precision, string detail)
    {
        var bound = Bounds[precision];
        Expect(result.Logits <= bound.Logits && result.Loss <= bound.Loss && result.WorstGradient <= bound.Gradient
            && result.GradientNorm <= bound.Norm && result.WorstStep <= bound.Step,
            string.Create(CultureInfo.InvariantCulture, $"{detail} (bounds {bound})"));
    }
}
