using Tern.Cuda;
using Tern.Cuda.Interop;

namespace Tern.Tests.Cuda;

/// <summary>
/// On a machine without CUDA (this one, CI), asking for a GPU must answer no with one clear sentence and throw nothing;
/// where a GPU is present, the context must move data there and back.
/// </summary>
public class CudaAvailabilityTests
{
    [Fact]
    public void TryCreate_answers_without_throwing_and_explains_a_no()
    {
        bool available = CudaAvailability.TryCreate(out CudaContext? context, out string whyNot);
        if (!available)
        {
            Assert.Null(context);
            Assert.False(string.IsNullOrWhiteSpace(whyNot));
            Assert.EndsWith(".", whyNot, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', whyNot);
            return;
        }

        using (context)
        {
            Assert.Equal("", whyNot);
            float[] values = Enumerable.Range(0, 1000).Select(i => i * 0.5f - 17f).ToArray();
            using var buffer = new DeviceBuffer<float>(context!, values.Length);
            buffer.Upload(values);
            Assert.Equal(values, buffer.ToArray());
        }
    }

    [Fact]
    public void Without_a_driver_the_reason_names_the_library()
    {
        if (CudaLibraries.DriverLibrary.IsLoaded)
            return;
        Assert.False(CudaAvailability.TryCreate(out _, out string whyNot));
        Assert.Contains("libcuda.so.1", whyNot, StringComparison.Ordinal);
        Assert.Contains("could not be loaded", whyNot, StringComparison.Ordinal);
    }

    [Fact]
    public void A_negative_device_number_is_refused_with_a_reason()
    {
        Assert.False(CudaAvailability.TryCreate(-1, out CudaContext? context, out string whyNot));
        Assert.Null(context);
        Assert.Contains("-1", whyNot, StringComparison.Ordinal);
    }

    [Fact]
    public void Using_the_GPU_without_a_driver_throws_a_clear_DllNotFoundException()
    {
        if (CudaLibraries.DriverLibrary.IsLoaded)
            return;
        var exception = Assert.Throws<DllNotFoundException>(() => CudaContext.Create());
        Assert.Contains("libcuda.so.1", exception.Message, StringComparison.Ordinal);
    }
}
