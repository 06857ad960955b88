using System.Diagnostics;
using System.Runtime.InteropServices;
using Tern.Cuda.Inference;
using Tern.Inference;
using Tern.Gguf;
using Tern.Inference.Placement;
using Tern.Models;
using Tern.Quantization;
using static Tern.Cuda.DeviceTests.CheckFailedException;

namespace Tern.Cuda.DeviceTests;

/// <summary>
/// The CUDA inference backend against the CPU engine. Kernels on random data of odd sizes: ternary products (one to
/// eight tokens through the matrix-vector kernel, prompts through the int8 tensor-core product; one scale or one per
/// block) must equal the CPU's formula bit for bit, float products within 1e-5. Models: logits of a prompt and of 128
/// greedy steps within 1e-3 of the CPU's (max |Δ| over max |logit|) and the same tokens, for every placement; then
/// the same 128 steps through Session.EvaluateGreedy (the token picked on the device), again the CPU's tokens; and
/// the decoding paths that are off by default (the persistent step, attention's keys and values staged in shared
/// memory).
/// </summary>
internal static class InferenceChecks
{
    public static void Run(DeviceCheckRunner runner, CudaContext context, KernelCompiler compiler, Random random, IReadOnlyList<string> models)
    {
        using var kernels = new CudaInferenceKernels(compiler);
        using var workspace = new InferenceWorkspace(context, kernels, new WorkspaceShape(512, 64, 64, 64, 64, 64, 7000, 7000, 7000L * 7000));
        foreach ((int rows, int columns, bool blockScales) in new[] { (37, 200, false), (2560, 2560, false), (640, 6912, false), (96, 768, true), (300, 1024, true) })
        {
            foreach (int tokens in new[] { 1, 3, 8, 9, 40, 512 })
            {
                runner.Run($"ternary product {rows}×{columns}{(blockScales ? " (block scales)" : "")}, {tokens} token(s)",
                    () => TernaryProduct(context, workspace, random, rows, columns, tokens, blockScales));
            }
        }
        foreach (int kind in new[] { 0, 1, 2 })
        {
            foreach ((int rows, int columns, int tokens) in new[] { (33, 172, 1), (1000, 2560, 1), (129, 64, 8), (77, 96, 13) })
                runner.Run($"float product kind {kind} {rows}×{columns}, {tokens} token(s)", () => FloatProduct(context, workspace, random, kind, rows, columns, tokens));
        }

        foreach ((int rows, int columns, int tokens) in new[] { (33, 64, 1), (1000, 2560, 1), (129, 96, 8), (77, 160, 13) })
            runner.Run($"Q8_0 product {rows}×{columns}, {tokens} token(s)", () => Q8Product(context, workspace, random, rows, columns, tokens));

        if (models.Count == 0)
            return;
        if (!CudaAccelerator.TryCreate(context.DeviceOrdinal, out var accelerator, out string whyNot))
        {
            runner.Run("CUDA accelerator", () => throw new CheckFailedException(whyNot));
            return;
        }

        using (accelerator)
        {
            foreach (string path in models)
            {
                int blocks;
                using (var probe = TernModel.Load(path, new TernModelOptions { Threads = 1 }))
                    blocks = probe.Config.BlockCount;
                string name = Path.GetFileName(path);
                var placements = new List<(string, ModelPlacement)>
                {
                    ("-ngl all", new ModelPlacement { GpuLayers = ModelPlacement.AllLayers }),
                    ("-ngl all, head on the CPU", new ModelPlacement { GpuLayers = ModelPlacement.AllLayers, Overrides = [TensorOverride.Parse("token_embd.weight=cpu"), TensorOverride.Parse("^output.weight=cpu")] }),
                    ($"-ngl {blocks / 2}", new ModelPlacement { GpuLayers = blocks / 2 }),
                    ($"-ngl {blocks / 2}, blk.0.ffn_down=cuda, last attn_q and ffn_down=cpu", new ModelPlacement
                    {
                        GpuLayers = blocks / 2,
                        Overrides = [TensorOverride.Parse("blk\\.0\\.ffn_down=cuda"), TensorOverride.Parse($"blk\\.{blocks - 1}\\.(attn_q|ffn_down)=cpu")],
                    }),
                };
                foreach (var (label, placement) in placements)
                    runner.Run($"model {name} {label}", () => Agreement(path, placement, accelerator, headType: null));
                runner.Run($"model {name} -ngl all, --head-type q8_0", () => Agreement(path, placements[0].Item2, accelerator, GgmlType.Q8_0));
                bool persistent = accelerator.PersistentDecode;
                accelerator.PersistentDecode = !persistent;
                try
                {
                    string other = persistent ? "five launches a block" : "one persistent kernel a step (TERN_CUDA_DECODE=step)";
                    runner.Run($"model {name} -ngl all, {other}", () => Agreement(path, placements[0].Item2, accelerator, headType: null));
                    runner.Run($"model {name} -ngl 2, {other}", () => Agreement(path, new ModelPlacement { GpuLayers = 2 }, accelerator, headType: null));
                }
                finally
                {
                    accelerator.PersistentDecode = persistent;
                }

                // attention_decode with the first positions' keys and values in shared memory: all that fit, and
                // only five (the later ones through L2), so both sources and the seam between them are checked.
                int staging = accelerator.AttentionStagingLimit;
                try
                {
                    foreach (int limit in new[] { CudaAccelerator.AutomaticAttentionStaging, 5 })
                    {
                        accelerator.AttentionStagingLimit = limit;
                        string label = limit == CudaAccelerator.AutomaticAttentionStaging ? "all that fit" : $"{limit} positions";
                        runner.Run($"model {name} -ngl all, cached keys and values staged in shared memory ({label})",
                            () => Agreement(path, placements[0].Item2, accelerator, headType: null));
                    }
                }
                finally
                {
                    accelerator.AttentionStagingLimit = staging;
                }
            }
        }
    }

    private static string TernaryProduct(CudaContext context, InferenceWorkspace workspace, Random random, int rows, int columns, int tokens, bool blockScales)
    {
        var values = new sbyte[rows * columns];
        for (int i = 0; i < values.Length; i++)
            values[i] = (sbyte)(random.Next(3) - 1);
        const int block = 256;
        int blocks = (values.Length + block - 1) / block;
        var scales = new float[blocks];
        for (int b = 0; b < blocks; b++)
            scales[b] = blockScales ? 0.01f + (float)random.NextDouble() : 0.37f;
        var tensor = new TernaryTensor(values, scales, block);
        using var matrix = DeviceTernaryMatrix.Create(context, "check", rows, columns, tensor);
        var x = RandomFloats(random, tokens * columns);
        var expected = new float[tokens * rows];
        var q = new sbyte[columns];
        for (int t = 0; t < tokens; t++)
        {
            float s = AbsmaxInt8Quantizer.Quantize(x.AsSpan(t * columns, columns), q);
            for (int r = 0; r < rows; r++)
            {
                if (!blockScales)
                {
                    int dot = 0;
                    for (int c = 0; c < columns; c++)
                        dot += values[(r * columns) + c] * q[c];
                    expected[(t * rows) + r] = dot * (scales[0] / s);
                }
                else
                {
                    double sum = 0;
                    for (int b = 0; b < columns / block; b++)
                    {
                        int dot = 0;
                        for (int c = b * block; c < (b + 1) * block; c++)
                            dot += values[(r * columns) + c] * q[c];
                        sum += dot * (double)scales[((r * columns) + (b * block)) / block];
                    }
                    expected[(t * rows) + r] = (float)(sum / s);
                }
            }
        }

        var actual = DeviceProduct(workspace, matrix, x, tokens);
        double worst = Worst(expected, actual);
        if (blockScales ? worst > 1e-5 : worst != 0)
            throw new CheckFailedException($"max |Δ|/max|y| = {worst:E2}{(workspace.IntegerProductFailure is { } f ? $" (int8 product unavailable: {f})" : "")}");
        string path = tokens <= CudaInferenceKernels.MatvecTokens || blockScales ? "matvec" : workspace.IntegerProductFailure is null ? "int8 tensor cores" : "matvec (int8 product unavailable)";
        return $"{path}; max |Δ|/max|y| = {worst:E2}";
    }

    private static string FloatProduct(CudaContext context, InferenceWorkspace workspace, Random random, int kind, int rows, int columns, int tokens)
    {
        var w = RandomFloats(random, rows * columns);
        byte[] raw;
        if (kind == 0)
        {
            raw = MemoryMarshal.AsBytes(w.AsSpan()).ToArray();
        }
        else
        {
            raw = new byte[w.Length * 2];
            var bits = MemoryMarshal.Cast<byte, ushort>(raw.AsSpan());
            for (int i = 0; i < w.Length; i++)
            {
                bits[i] = kind == 1 ? BitConverter.HalfToUInt16Bits((Half)w[i]) : (ushort)(BitConverter.SingleToUInt32Bits(w[i]) >> 16);
                w[i] = kind == 1 ? (float)BitConverter.UInt16BitsToHalf(bits[i]) : BitConverter.UInt32BitsToSingle((uint)bits[i] << 16);
            }
        }

        using var matrix = DeviceFloatMatrix.Create(context, "check", rows, columns, raw, kind);
        var x = RandomFloats(random, tokens * columns);
        var expected = new float[tokens * rows];
        for (int t = 0; t < tokens; t++)
        {
            for (int r = 0; r < rows; r++)
            {
                double sum = 0;
                for (int c = 0; c < columns; c++)
                    sum += (double)w[(r * columns) + c] * x[(t * columns) + c];
                expected[(t * rows) + r] = (float)sum;
            }
        }

        var actual = DeviceProduct(workspace, matrix, x, tokens);
        double worst = Worst(expected, actual);
        Expect(worst < 1e-5, $"max |Δ|/max|y| = {worst:E2}");
        return $"max |Δ|/max|y| = {worst:E2}";
    }

    /// <summary>The device's Q8_0 product against the CPU engine's Q8_0WeightMatrix on the same weights and inputs.</summary>
    private static string Q8Product(CudaContext context, InferenceWorkspace workspace, Random random, int rows, int columns, int tokens)
    {
        var w = RandomFloats(random, rows * columns);
        var bytes = new byte[(long)rows * Q8_0Format.ByteSize(columns)];
        int rowBytes = (int)Q8_0Format.ByteSize(columns);
        for (int r = 0; r < rows; r++)
            Q8_0Format.Encode(w.AsSpan(r * columns, columns), bytes.AsSpan(r * rowBytes, rowBytes));
        var host = new Q8_0WeightMatrix("check", rows, columns, MatrixBytes.InMemory(bytes, rowBytes));
        using var matrix = DeviceQ8Matrix.Upload(context, host);
        var x = RandomFloats(random, tokens * columns);
        var expected = new float[tokens * rows];
        for (int t = 0; t < tokens; t++)
            host.Multiply(x.AsSpan(t * columns, columns), expected.AsSpan(t * rows, rows));

        var actual = DeviceProduct(workspace, matrix, x, tokens);
        double worst = Worst(expected, actual);
        Expect(worst < 1e-5, $"max |Δ|/max|y| = {worst:E2}");
        return $"max |Δ|/max|y| = {worst:E2} against the CPU's Q8_0 product";
    }

    private static string Agreement(string path, ModelPlacement placement, CudaAccelerator accelerator, GgmlType? headType)
    {
        const int promptLength = 70, steps = 128;
        using var cpu = TernModel.Load(path, new TernModelOptions { Threads = Environment.ProcessorCount, HeadType = headType });
        using var gpu = TernModel.Load(path, new TernModelOptions { Threads = Environment.ProcessorCount, Placement = placement, Accelerator = accelerator, HeadType = headType });
        int context = Math.Min(cpu.Config.ContextLength, promptLength + steps + 1);
        var random = new Random(7);
        var prompt = new int[Math.Min(promptLength, context / 2)];
        for (int i = 0; i < prompt.Length; i++)
            prompt[i] = random.Next(cpu.Config.VocabSize);

        using var a = cpu.CreateSession(context);
        using var b = gpu.CreateSession(context);
        // Every position of the prompt scored (perplexity's path): the device hands logits over in groups.
        var cpuAll = new List<float[]>();
        var gpuAll = new List<float[]>();
        a.Evaluate(prompt, 0, (_, logits) => cpuAll.Add(logits.ToArray()));
        b.Evaluate(prompt, 0, (_, logits) => gpuAll.Add(logits.ToArray()));
        double worstPrompt = 0;
        for (int i = 0; i < prompt.Length; i++)
            worstPrompt = Math.Max(worstPrompt, Worst(cpuAll[i], gpuAll[i]));
        Expect(worstPrompt <= 1e-3, $"prompt logits differ: max |Δ|/max|logit| = {worstPrompt:E2} ({gpu.Backend})");

        int tokenA = Session.ArgMax(cpuAll[^1]), tokenB = Session.ArgMax(gpuAll[^1]);
        double worstStep = 0;
        int generated = Math.Min(steps, context - prompt.Length - 1);
        var cpuTokens = new List<int> { tokenA };
        var clock = Stopwatch.StartNew();
        for (int step = 0; step < generated; step++)
        {
            Expect(tokenA == tokenB, $"greedy step {step}: CPU {tokenA}, GPU {tokenB} (worst so far {worstStep:E2})");
            var la = a.Evaluate(tokenA);
            var lb = b.Evaluate(tokenB);
            worstStep = Math.Max(worstStep, Worst(la, lb));
            tokenA = Session.ArgMax(la);
            tokenB = Session.ArgMax(lb);
            cpuTokens.Add(tokenA);
        }
        // Float blocks (F32, F16 weights) agree with the CPU's to about 1e-6, not bit for bit (their products' order
        // differs), and a Q8_0 head rounds its input to int8 per 32 columns: one activation rounded the other way
        // moves a logit by a step of the block's scale. Ternary blocks agree bit for bit, so they keep the bound.
        bool floatBlocks = cpu.Weights.Layers.Any(l => l.Query is not TernaryWeightMatrix);
        double stepBound = floatBlocks && headType == GgmlType.Q8_0 ? 5e-3 : 1e-3;
        Expect(worstStep <= stepBound, $"decoding logits differ: max |Δ|/max|logit| = {worstStep:E2} (bound {stepBound:E0})");

        // The same steps again without the logits (EvaluateGreedy: the argmax on the device when it has the head),
        // in the same session, so its logits graph and its greedy graph share one KV cache and one persistent step.
        b.Rewind(prompt.Length);
        int tokenC = cpuTokens[0];
        var greedyClock = Stopwatch.StartNew();
        for (int step = 0; step < generated; step++)
        {
            tokenC = b.EvaluateGreedy(tokenC);
            Expect(tokenC == cpuTokens[step + 1], $"EvaluateGreedy step {step}: CPU {cpuTokens[step + 1]}, GPU {tokenC}");
        }
        double greedyMicroseconds = greedyClock.Elapsed.TotalMicroseconds / Math.Max(1, generated);
        return $"{gpu.Backend} | prompt {prompt.Length}: {worstPrompt:E2}; {generated} greedy tokens identical, worst {worstStep:E2}; " +
            $"EvaluateGreedy the same tokens, {greedyMicroseconds:F0} µs a token";
    }

    /// <summary>The device's product of <paramref name="matrix"/> with <paramref name="tokens"/> rows of x; the output
    /// buffer is filled with NaNs first, so an output the kernels leave unwritten shows.</summary>
    private static float[] DeviceProduct(InferenceWorkspace workspace, DeviceMatrix matrix, float[] x, int tokens)
    {
        var input = workspace.StageInput(x, tokens, matrix.Columns);
        workspace.Scratch.FillWords(0xFFFFFFFF, workspace.Stream);
        matrix.Multiply(workspace, input, tokens, workspace.Scratch.Pointer, accumulate: false);
        var actual = new float[tokens * matrix.Rows];
        workspace.Download(workspace.Scratch.Pointer, actual);
        return actual;
    }

    private static float[] RandomFloats(Random random, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
            values[i] = (float)((random.NextDouble() * 2) - 1);
        return values;
    }

    private static double Worst(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        double largest = 0, difference = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            largest = Math.Max(largest, Math.Abs(expected[i]));
            double d = Math.Abs((double)expected[i] - actual[i]);
            if (double.IsNaN(d))
                return double.PositiveInfinity;
            difference = Math.Max(difference, d);
        }

        return largest == 0 ? difference : difference / largest;
    }
}
