namespace Tern.Inference.Placement;

/// <summary>
/// Which parts of a model compute on the GPU. As in llama.cpp, <see cref="GpuLayers"/> (<c>-ngl</c>) counts the
/// blocks from the last one backwards: with N of L blocks on the GPU, blocks L − N … L − 1 are there and the first
/// L − N stay on the CPU, so a token crosses from host to device once. The output head follows the last block (it
/// is on the GPU whenever that block is), also when it is tied to the token embedding, whose lookup always stays on
/// the host where the input is prepared. <see cref="Overrides"/> then move single tensors either way; the first
/// pattern that finds a tensor's name decides.
/// </summary>
public sealed record ModelPlacement
{
    /// <summary>Every block on the GPU (llama.cpp users write -ngl 99).</summary>
    public const int AllLayers = int.MaxValue;

    /// <summary>Blocks on the GPU, counted from the last (0: none; any number ≥ the block count: all).</summary>
    public int GpuLayers { get; init; }

    public IReadOnlyList<TensorOverride> Overrides { get; init; } = [];

    /// <summary>The CPU alone, nothing overridden.</summary>
    public static ModelPlacement CpuOnly { get; } = new();

    /// <summary>The first block on the GPU of a model with <paramref name="blockCount"/> blocks (blockCount when none is).</summary>
    public int FirstGpuLayer(int blockCount) => blockCount - Math.Clamp(GpuLayers, 0, blockCount);

    /// <summary>Where <paramref name="tensorName"/> computes when its layer (or, for the head, the last block) is on <paramref name="layerDevice"/>.</summary>
    public ComputeDevice DeviceOf(string tensorName, ComputeDevice layerDevice)
    {
        foreach (var o in Overrides)
        {
            if (o.Pattern.IsMatch(tensorName))
                return o.Device;
        }

        return layerDevice;
    }

    /// <summary>Whether anything at all computes on the GPU.</summary>
    public bool UsesGpu(int blockCount) =>
        GpuLayers > 0 || Overrides.Any(o => o.Device == ComputeDevice.Cuda);
}
