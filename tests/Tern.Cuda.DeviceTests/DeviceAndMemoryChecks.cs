using Tern.Cuda.Interop;
using static Tern.Cuda.DeviceTests.CheckFailedException;

namespace Tern.Cuda.DeviceTests;

/// <summary>The device's description, and data going to the device and back unchanged.</summary>
internal static class DeviceAndMemoryChecks
{
    public static void Run(DeviceCheckRunner runner, CudaContext context, Random random)
    {
        runner.Run("device properties", () => DeviceProperties(context));
        runner.Run("upload/download round trip", () => RoundTrip(context, random));
        runner.Run("slices, zero, fill, device-to-device copy", () => SlicesAndFills(context, random));
    }

    private static string DeviceProperties(CudaContext context)
    {
        Expect(context.Name.Length > 0, "the device has no name");
        Expect(context.ComputeCapabilityMajor >= 7, $"compute capability {context.ComputeCapabilityMajor}.{context.ComputeCapabilityMinor}");
        Expect(context.MultiprocessorCount > 0, "no multiprocessors");
        Expect(context.TotalMemoryBytes > 1L << 30, $"{context.TotalMemoryBytes} bytes of memory");
        Expect(context.WarpSize == 32, $"warp size {context.WarpSize}");
        (long free, long total) = context.GetMemoryInfo();
        Expect(free > 0 && free <= total && total == context.TotalMemoryBytes, $"memory info {free} free of {total}, device says {context.TotalMemoryBytes}");
        (int nvrtcMajor, int nvrtcMinor) = Nvrtc.Version();
        return $"{context}; compute capability {context.ComputeCapabilityMajor}.{context.ComputeCapabilityMinor}, " +
            $"L2 {context.L2CacheBytes >> 20} MiB, shared memory per block {context.MaxSharedMemoryPerBlock >> 10} KiB " +
            $"(opt-in {context.MaxSharedMemoryPerBlockOptIn >> 10} KiB), {free / (1 << 20)} MiB free; " +
            $"NVRTC {nvrtcMajor}.{nvrtcMinor} from {CudaLibraries.NvrtcLibrary.LoadedFrom}, " +
            $"cuBLASLt from {CudaLibraries.CublasLtLibrary.LoadedFrom}, driver from {CudaLibraries.DriverLibrary.LoadedFrom}";
    }

    private static string RoundTrip(CudaContext context, Random random)
    {
        const int Count = 1_000_003;
        float[] values = CpuReference.RandomUniform(random, Count);
        using var buffer = new DeviceBuffer<float>(context, Count);
        buffer.Upload(values);
        var back = new float[Count];
        buffer.Download(back);
        Expect(values.AsSpan().SequenceEqual(back), "the downloaded floats differ from the uploaded ones");

        byte[] bytes = new byte[4097];
        random.NextBytes(bytes);
        using var byteBuffer = new DeviceBuffer<byte>(context, bytes.Length);
        byteBuffer.Upload(bytes);
        Expect(byteBuffer.ToArray().AsSpan().SequenceEqual(bytes), "an odd-sized byte buffer came back changed");
        return $"{Count} floats and {bytes.Length} bytes back bit for bit";
    }

    private static string SlicesAndFills(CudaContext context, Random random)
    {
        const int Count = 10_000;
        float[] values = CpuReference.RandomUniform(random, Count);
        using var buffer = new DeviceBuffer<float>(context, Count);
        buffer.FillWords(0xFFFF_FFFF);
        Expect(buffer.ToArray().All(float.IsNaN), "FillWords(0xFFFFFFFF) did not make every float NaN");

        buffer.Zero();
        buffer.Upload(values.AsSpan(100, 900), offset: 100);
        float[] back = buffer.ToArray();
        Expect(back.AsSpan(0, 100).IndexOfAnyExcept(0f) < 0 && back.AsSpan(1000).IndexOfAnyExcept(0f) < 0,
            "an upload at an offset wrote outside its range, or Zero left something");
        Expect(back.AsSpan(100, 900).SequenceEqual(values.AsSpan(100, 900)), "an upload at an offset landed wrong");

        var part = new float[50];
        buffer.Download(part, offset: 120);
        Expect(part.AsSpan().SequenceEqual(values.AsSpan(120, 50)), "a download at an offset read the wrong elements");
        Expect(buffer.At(120).Address == buffer.Pointer.Address + 120 * sizeof(float), "At(120) is not 480 bytes past the start");

        using var copy = new DeviceBuffer<float>(context, Count);
        copy.Zero();
        copy.CopyFrom(buffer, sourceOffset: 100, offset: 0, count: 900);
        Expect(copy.ToArray().AsSpan(0, 900).SequenceEqual(values.AsSpan(100, 900)), "a device-to-device copy moved the wrong data");

        bool threw = false;
        try
        {
            buffer.Upload(values, offset: 1);
        }
        catch (ArgumentOutOfRangeException)
        {
            threw = true;
        }
        Expect(threw, "an upload past the end was not refused");
        return "offset uploads and downloads, At, NaN fill, zero, device-to-device copy, range check";
    }
}
