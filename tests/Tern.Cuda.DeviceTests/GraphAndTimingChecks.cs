using static Tern.Cuda.DeviceTests.CheckFailedException;

namespace Tern.Cuda.DeviceTests;

/// <summary>
/// A CUDA graph of 100 launches replayed and checked element by element; then device timings with events: launch
/// overhead with and without the graph, copy bandwidth and matrix-product rates (medians of repeated runs after
/// warm-up, on random data made on the device).
/// </summary>
internal static class GraphAndTimingChecks
{
    private const int LaunchesPerGraph = 100;

    public static void Run(DeviceCheckRunner runner, CudaContext context, KernelCompiler compiler, Random random)
    {
        using CudaModule module = compiler.Compile(typeof(GraphAndTimingChecks).Assembly, "vector_add.cu");
        using CudaModule fill = compiler.Compile(typeof(GraphAndTimingChecks).Assembly, "fill_random.cu");
        runner.Run($"CUDA graph of {LaunchesPerGraph} launches, replayed", () => Graph(context, module.GetKernel("add_scalar"), random));
        runner.Run("device-to-device copy bandwidth (events)", () => CopyBandwidth(context));
        foreach (GemmPrecision precision in new[] { GemmPrecision.BFloat16, GemmPrecision.Float32ViaTf32, GemmPrecision.Float32 })
            runner.Run($"GEMM rate 8192×8192×8192 {precision} (events)", () => GemmRate(context, fill, precision, random));
    }

    private static string Graph(CudaContext context, CudaKernel addScalar, Random random)
    {
        const int Count = 4099;
        const int Replays = 3;
        float[] start = CpuReference.RandomUniform(random, Count);
        using var x = new DeviceBuffer<float>(context, Count);
        x.Upload(start);
        using var stream = new CudaStream(context);

        using CudaGraph graph = CudaGraph.Capture(stream, capturing =>
        {
            for (int launch = 1; launch <= LaunchesPerGraph; launch++)
                addScalar.Launch(Dim3.Covering(Count, 128), 128, 0, capturing, x.Pointer, (float)launch, Count);
        });
        float[] afterCapture = x.ToArray();
        Expect(afterCapture.AsSpan().SequenceEqual(start), "capturing ran the launches instead of recording them");

        for (int replay = 0; replay < Replays; replay++)
            graph.Launch(stream);
        stream.Synchronize();

        // The same float additions in the same order on the CPU: the result must match bit for bit.
        float[] expected = (float[])start.Clone();
        for (int replay = 0; replay < Replays; replay++)
        {
            for (int launch = 1; launch <= LaunchesPerGraph; launch++)
            {
                for (int i = 0; i < Count; i++)
                    expected[i] += launch;
            }
        }
        float[] actual = x.ToArray();
        for (int i = 0; i < Count; i++)
        {
            if (actual[i] != expected[i])
                Expect(false, $"x[{i}] = {actual[i]:R}, expected {expected[i]:R}");
        }

        // Launch cost: the same 100 launches queued one by one, then as one graph, timed on the device.
        using var begin = new CudaEvent(context);
        using var end = new CudaEvent(context);
        var direct = new List<float>();
        var replayed = new List<float>();
        for (int repeat = 0; repeat < 12; repeat++)
        {
            begin.Record(stream);
            for (int launch = 1; launch <= LaunchesPerGraph; launch++)
                addScalar.Launch(Dim3.Covering(Count, 128), 128, 0, stream, x.Pointer, 0f, Count);
            end.Record(stream);
            direct.Add(CudaEvent.ElapsedMilliseconds(begin, end));

            begin.Record(stream);
            graph.Launch(stream);
            end.Record(stream);
            replayed.Add(CudaEvent.ElapsedMilliseconds(begin, end));
        }
        direct.RemoveRange(0, 2);
        replayed.RemoveRange(0, 2);
        double directMicroseconds = CpuReference.Median(direct) * 1000 / LaunchesPerGraph;
        double graphMicroseconds = CpuReference.Median(replayed) * 1000 / LaunchesPerGraph;
        return $"{Replays} replays exact over {Count} elements; per launch {directMicroseconds:F2} µs queued one by one, " +
            $"{graphMicroseconds:F2} µs in the graph (medians of 10)";
    }

    private static string CopyBandwidth(CudaContext context)
    {
        const long Bytes = 1L << 30;
        using var source = new DeviceBuffer<byte>(context, Bytes);
        using var destination = new DeviceBuffer<byte>(context, Bytes);
        source.FillBytes(0x5A);
        using var stream = new CudaStream(context);
        using var begin = new CudaEvent(context);
        using var end = new CudaEvent(context);
        var times = new List<float>();
        for (int repeat = 0; repeat < 12; repeat++)
        {
            begin.Record(stream);
            destination.CopyFrom(source, 0, 0, Bytes, stream);
            end.Record(stream);
            times.Add(CudaEvent.ElapsedMilliseconds(begin, end));
        }
        times.RemoveRange(0, 2);
        double milliseconds = CpuReference.Median(times);
        var sample = new byte[4096];
        destination.Download(sample, Bytes - sample.Length);
        Expect(sample.All(b => b == 0x5A), "the copy did not arrive");
        return $"1 GiB in {milliseconds:F3} ms: {2.0 * Bytes / (milliseconds * 1e-3) / 1e12:F2} TB/s counting bytes read and written (median of 10)";
    }

    private static string GemmRate(CudaContext context, CudaModule fill, GemmPrecision precision, Random random)
    {
        const int Size = 8192;
        var description = new GemmDescription(Size, Size, Size, precision, TransposeB: true);
        long elements = (long)Size * Size;
        using var stream = new CudaStream(context);
        using var c = new DeviceBuffer<float>(context, elements);
        using var gemm = new CublasGemm(context);
        var grid = new Dim3(context.MultiprocessorCount * 8);
        var times = new List<float>();
        using var begin = new CudaEvent(context);
        using var end = new CudaEvent(context);

        DevicePointer a, b;
        IDisposable ownerA, ownerB;
        if (precision == GemmPrecision.BFloat16)
        {
            var a16 = new DeviceBuffer<ushort>(context, elements);
            var b16 = new DeviceBuffer<ushort>(context, elements);
            fill.GetKernel("fill_uniform_bf16").Launch(grid, 256, 0, stream, a16.Pointer, elements, (ulong)random.NextInt64());
            fill.GetKernel("fill_uniform_bf16").Launch(grid, 256, 0, stream, b16.Pointer, elements, (ulong)random.NextInt64());
            (a, b, ownerA, ownerB) = (a16.Pointer, b16.Pointer, a16, b16);
        }
        else
        {
            var a32 = new DeviceBuffer<float>(context, elements);
            var b32 = new DeviceBuffer<float>(context, elements);
            fill.GetKernel("fill_uniform_f32").Launch(grid, 256, 0, stream, a32.Pointer, elements, (ulong)random.NextInt64());
            fill.GetKernel("fill_uniform_f32").Launch(grid, 256, 0, stream, b32.Pointer, elements, (ulong)random.NextInt64());
            (a, b, ownerA, ownerB) = (a32.Pointer, b32.Pointer, a32, b32);
        }
        using (ownerA)
        using (ownerB)
        {
            for (int repeat = 0; repeat < 13; repeat++)
            {
                begin.Record(stream);
                gemm.Multiply(description, a, b, c.Pointer, stream: stream);
                end.Record(stream);
                times.Add(CudaEvent.ElapsedMilliseconds(begin, end));
            }
        }
        times.RemoveRange(0, 3);
        var corner = new float[4];
        c.Download(corner);
        Expect(corner.All(float.IsFinite) && corner.Any(v => v != 0), $"the product's first elements are {string.Join(", ", corner)}");
        double milliseconds = CpuReference.Median(times);
        return $"{milliseconds:F3} ms, {description.FloatingPointOperations / (milliseconds * 1e-3) / 1e12:F0} TFLOP/s (median of 10, random inputs)";
    }
}
