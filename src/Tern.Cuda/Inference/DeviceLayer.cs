namespace Tern.Cuda.Inference;

/// <summary>One transformer block on the device: its norms' weights and its seven matrices.</summary>
internal sealed record DeviceLayer(
    DeviceBuffer<float> AttentionNorm,
    DeviceMatrix Query,
    DeviceMatrix Key,
    DeviceMatrix Value,
    DeviceMatrix Output,
    DeviceBuffer<float>? AttentionSubNorm,
    DeviceBuffer<float> FfnNorm,
    DeviceMatrix Gate,
    DeviceMatrix Up,
    DeviceMatrix Down,
    DeviceBuffer<float>? FfnSubNorm) : IDisposable
{
    public IEnumerable<DeviceMatrix> Matrices => [Query, Key, Value, Output, Gate, Up, Down];

    public void Dispose()
    {
        foreach (var m in Matrices)
            m.Dispose();
        AttentionNorm.Dispose();
        AttentionSubNorm?.Dispose();
        FfnNorm.Dispose();
        FfnSubNorm?.Dispose();
    }
}
