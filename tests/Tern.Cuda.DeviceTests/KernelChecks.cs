using System.Diagnostics;
using static Tern.Cuda.DeviceTests.CheckFailedException;

namespace Tern.Cuda.DeviceTests;

/// <summary>Kernels compiled with NVRTC from embedded sources, checked against the CPU; compile errors; the disk cache.</summary>
internal static class KernelChecks
{
    public static void Run(DeviceCheckRunner runner, CudaContext context, KernelCompiler compiler, Random random)
    {
        runner.Run("vector add (NVRTC, embedded vector_add.cu)", () => VectorAdd(context, compiler, random));
        runner.Run("reduction (embedded reduce_sum.cu)", () => Reduction(context, compiler, random));
        runner.Run("launch arguments checked against the kernel", () => ArgumentCheck(context, compiler));
        runner.Run("compile error names the source and carries the log", () => CompileError(compiler));
        runner.Run("disk cache: second compile loads the binary", () => Cache(context));
    }

    private static string VectorAdd(CudaContext context, KernelCompiler compiler, Random random)
    {
        const int Count = (1 << 20) + 3;
        var clock = Stopwatch.StartNew();
        using CudaModule module = compiler.Compile(typeof(KernelChecks).Assembly, "vector_add.cu");
        double compileMilliseconds = clock.Elapsed.TotalMilliseconds;
        CudaKernel kernel = module.GetKernel("vector_add");

        float[] a = CpuReference.RandomUniform(random, Count);
        float[] b = CpuReference.RandomUniform(random, Count);
        using var deviceA = new DeviceBuffer<float>(context, Count);
        using var deviceB = new DeviceBuffer<float>(context, Count);
        using var deviceC = new DeviceBuffer<float>(context, Count);
        deviceA.Upload(a);
        deviceB.Upload(b);
        deviceC.FillWords(0xFFFF_FFFF);
        kernel.Launch(Dim3.Covering(Count, 256), 256, 0, null, deviceA.Pointer, deviceB.Pointer, deviceC.Pointer, Count);
        context.Synchronize();
        float[] c = deviceC.ToArray();
        for (int i = 0; i < Count; i++)
        {
            if (c[i] != a[i] + b[i])
                Expect(false, $"c[{i}] = {c[i]}, expected {a[i] + b[i]} ({a[i]} + {b[i]})");
        }
        return $"{Count} sums exact; module {(module.LoadedFromCache ? "from cache" : "compiled")} in {compileMilliseconds:F0} ms " +
            $"for {compiler.TargetArchitecture} by NVRTC {compiler.NvrtcVersion}; {kernel}";
    }

    private static string Reduction(CudaContext context, KernelCompiler compiler, Random random)
    {
        const long Count = 10_000_019;
        using CudaModule module = compiler.Compile(typeof(KernelChecks).Assembly, "reduce_sum.cu");
        CudaKernel kernel = module.GetKernel("reduce_sum");
        float[] values = CpuReference.RandomUniform(random, Count);
        double expected = 0, magnitude = 0;
        foreach (float value in values)
        {
            expected += value;
            magnitude += Math.Abs(value);
        }

        using var input = new DeviceBuffer<float>(context, Count);
        using var total = new DeviceBuffer<double>(context, 1);
        input.Upload(values);
        total.Zero();
        kernel.Launch(context.MultiprocessorCount * 4, 512, 0, null, input.Pointer, Count, total.Pointer);
        var result = new double[1];
        total.Download(result);
        // Relative to Σ|x|, the scale of the rounding errors whatever the order of the additions.
        double error = Math.Abs(result[0] - expected) / magnitude;
        Expect(error < 1e-12, $"sum {result[0]:R}, CPU {expected:R}, error {error:E2} of Σ|x|");
        return $"sum of {Count} floats {result[0]:F6} vs CPU {expected:F6} (difference {error:E1} of Σ|x|)";
    }

    private static string ArgumentCheck(CudaContext context, KernelCompiler compiler)
    {
        using CudaModule module = compiler.Compile(typeof(KernelChecks).Assembly, "vector_add.cu");
        CudaKernel kernel = module.GetKernel("vector_add");
        if (kernel.ParameterSizes is null)
            return "the driver cannot describe parameters (before CUDA 12.4): not checked";
        Expect(kernel.ParameterSizes.SequenceEqual([8, 8, 8, 4]), $"vector_add's parameters are [{string.Join(", ", kernel.ParameterSizes)}] bytes");
        using var buffer = new DeviceBuffer<float>(context, 16);
        string? message = null;
        try
        {
            // Three pointers and a long where the kernel takes an int: refused before anything reaches the device.
            kernel.Launch(1, 16, 0, null, buffer.Pointer, buffer.Pointer, buffer.Pointer, 16L);
        }
        catch (ArgumentException exception)
        {
            message = exception.Message;
        }
        Expect(message is not null && message.Contains("vector_add", StringComparison.Ordinal), "a launch with a wrong argument size was not refused");

        bool missing = false;
        try
        {
            module.GetKernel("no_such_kernel");
        }
        catch (KeyNotFoundException)
        {
            missing = true;
        }
        Expect(missing, "GetKernel of a missing name did not throw KeyNotFoundException");
        return $"refused: {message}";
    }

    private static string CompileError(KernelCompiler compiler)
    {
        var broken = KernelSource.FromText("broken_kernel.cu", """
            extern "C" __global__ void broken(float* x)
            {
                x[0] = undefined_name;
            }
            """);
        KernelCompilationException? error = null;
        try
        {
            using CudaModule module = compiler.Compile(broken);
        }
        catch (KernelCompilationException exception)
        {
            error = exception;
        }
        Expect(error is not null, "broken source compiled");
        Expect(error!.SourceName == "broken_kernel.cu", $"the exception names '{error.SourceName}'");
        Expect(error.Log.Contains("undefined_name", StringComparison.Ordinal), $"the log does not mention the undefined name: {error.Log}");
        Expect(error.Message.Contains("broken_kernel.cu", StringComparison.Ordinal) && error.Message.Contains(error.Log, StringComparison.Ordinal),
            "the message lacks the source name or the log");
        return "log: " + error.Log.ReplaceLineEndings(" | ");
    }

    private static string Cache(CudaContext context)
    {
        string directory = Path.Combine(Path.GetTempPath(), "tern-cuda-cache-check-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var source = KernelSource.FromResource(typeof(KernelChecks).Assembly, "vector_add.cu");
            var clock = Stopwatch.StartNew();
            using CudaModule first = new KernelCompiler(context, directory).Compile(source);
            double firstMilliseconds = clock.Elapsed.TotalMilliseconds;
            Expect(!first.LoadedFromCache, "an empty cache produced a cached module");
            Expect(first.CachePath is not null && File.Exists(first.CachePath), $"no cache file at {first.CachePath}");

            clock.Restart();
            using CudaModule second = new KernelCompiler(context, directory).Compile(source);
            double secondMilliseconds = clock.Elapsed.TotalMilliseconds;
            Expect(second.LoadedFromCache, "the second compile did not load from the cache");
            Expect(second.CachePath == first.CachePath, "the two compiles used different cache files");
            Expect(secondMilliseconds < firstMilliseconds, $"loading from the cache ({secondMilliseconds:F1} ms) was not faster than compiling ({firstMilliseconds:F1} ms)");

            using CudaModule other = new KernelCompiler(context, directory).Compile(source, new KernelCompileOptions { FastMath = true });
            Expect(!other.LoadedFromCache && other.CachePath != first.CachePath, "different options hit the same cache entry");

            // The cached binary runs.
            CudaKernel kernel = second.GetKernel("add_scalar");
            using var x = new DeviceBuffer<float>(context, 3);
            x.Upload([1f, 2f, 3f]);
            kernel.Launch(1, 32, 0, null, x.Pointer, 0.5f, 3);
            Expect(x.ToArray().SequenceEqual([1.5f, 2.5f, 3.5f]), "the kernel from the cache computed the wrong values");
            return $"compile {firstMilliseconds:F1} ms, cache load {secondMilliseconds:F1} ms; file {Path.GetFileName(first.CachePath)} " +
                $"({new FileInfo(first.CachePath!).Length} bytes)";
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
