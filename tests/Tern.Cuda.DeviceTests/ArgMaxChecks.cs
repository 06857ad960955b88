using Tern.Cuda.Inference;
using Tern.Inference;
using static Tern.Cuda.DeviceTests.CheckFailedException;

namespace Tern.Cuda.DeviceTests;

/// <summary>
/// The argmax kernel (infer_sample.cu) against Session.ArgMax on random data of odd lengths, up to past what one
/// launch's blocks cover in one sweep: plain values, values with the largest planted several times (lowest index
/// wins), with NaNs (never picked), with a NaN at index 0 (answer 0), all equal, all −∞, and ±0 only. Every case
/// runs twice, directly and through a CUDA graph replayed with new data, so the kernel's reset of its counter counts.
/// </summary>
internal static class ArgMaxChecks
{
    private static readonly string[] Patterns = ["random", "planted ties", "NaNs", "NaN at 0", "all equal", "all -inf", "signed zeros"];

    public static void Run(DeviceCheckRunner runner, CudaContext context, KernelCompiler compiler, Random random)
    {
        using var kernels = new CudaInferenceKernels(compiler);
        using var argMax = new DeviceArgMax(context, kernels.ArgMax);
        foreach (int length in new[] { 1, 7, 1000, 128256, 300007 })
            runner.Run($"argmax of {length} float(s), every pattern, direct and in a replayed graph", () => Check(context, argMax, random, length));
    }

    private static string Check(CudaContext context, DeviceArgMax argMax, Random random, int length)
    {
        // Blocking, so that its launches wait for the uploads and fills, which go through the legacy default stream.
        using var stream = new CudaStream(context, nonBlocking: false);
        using var values = new DeviceBuffer<float>(context, length);
        using CudaGraph graph = CudaGraph.Capture(stream, capturing => argMax.Record(values.Pointer, length, capturing));
        int cases = 0;
        for (int round = 0; round < 4; round++)
        {
            foreach (string pattern in Patterns)
            {
                float[] data = Make(random, pattern, length);
                int expected = Session.ArgMax(data);
                values.Upload(data);
                argMax.Record(values.Pointer, length, stream);
                stream.Synchronize();
                int direct = argMax.Token.ToArray()[0];
                Expect(direct == expected, $"{pattern} (round {round}): kernel {direct}, Session.ArgMax {expected}");

                argMax.Token.FillWords(0xFFFFFFFF);
                graph.Launch(stream);
                stream.Synchronize();
                int replayed = argMax.Token.ToArray()[0];
                Expect(replayed == expected, $"{pattern} (round {round}) in a graph: kernel {replayed}, Session.ArgMax {expected}");
                cases++;
            }
        }

        return $"{cases} inputs, twice each, all equal to Session.ArgMax";
    }

    private static float[] Make(Random random, string pattern, int n)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++)
            x[i] = (float)((random.NextDouble() * 40) - 20);
        switch (pattern)
        {
            case "planted ties":
                // The largest value copied to a few random places, some before its first place.
                int top = Session.ArgMax(x);
                for (int k = 0; k < 3; k++)
                    x[random.Next(n)] = x[top];
                break;
            case "NaNs":
                // NaNs everywhere, including just before and on the largest, which then must lose to the runner-up.
                for (int k = 0; k < Math.Max(1, n / 50); k++)
                    x[random.Next(n)] = float.NaN;
                x[Session.ArgMax(x)] = float.NaN;
                break;
            case "NaN at 0":
                x[0] = float.NaN;
                break;
            case "all equal":
                Array.Fill(x, 1.5f);
                break;
            case "all -inf":
                Array.Fill(x, float.NegativeInfinity);
                break;
            case "signed zeros":
                for (int i = 0; i < n; i++)
                    x[i] = random.Next(2) == 0 ? -0f : 0f;
                break;
        }

        return x;
    }
}
