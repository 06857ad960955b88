using Tern.Cuda;
using Tern.Training.Model;

namespace Tern.Training.Cuda;

/// <summary>
/// The parameter layout cut into chunks of at most <see cref="ChunkLength"/> elements of one tensor each, as tables on
/// the device: one block per chunk computes γ's sums, the weight operands, the gradient norm's sums and AdamW, and a
/// chunk knows its tensor's kind (norm weights neither decay nor quantize). Sums over chunks are added in chunk order.
/// </summary>
internal sealed class ParameterChunks : IDisposable
{
    public const int ChunkLength = 16384;

    public ParameterChunks(CudaContext context, ParameterLayout layout)
    {
        var offsets = new List<long>();
        var lengths = new List<int>();
        var owners = new List<int>();
        var tensors = layout.Tensors;
        var firstChunks = new int[tensors.Count];
        var chunkCounts = new int[tensors.Count];
        var kinds = new int[tensors.Count];
        var tensorLengths = new long[tensors.Count];
        for (int t = 0; t < tensors.Count; t++)
        {
            var tensor = tensors[t];
            firstChunks[t] = offsets.Count;
            kinds[t] = (int)tensor.Kind;
            tensorLengths[t] = tensor.Length;
            for (long start = 0; start < tensor.Length; start += ChunkLength)
            {
                offsets.Add(tensor.Offset + start);
                lengths.Add((int)Math.Min(ChunkLength, tensor.Length - start));
                owners.Add(t);
            }

            chunkCounts[t] = offsets.Count - firstChunks[t];
        }

        Count = offsets.Count;
        TensorCount = tensors.Count;
        Offsets = Upload(context, offsets.ToArray());
        Lengths = Upload(context, lengths.ToArray());
        Tensors = Upload(context, owners.ToArray());
        TensorKinds = Upload(context, kinds);
        TensorFirstChunks = Upload(context, firstChunks);
        TensorChunkCounts = Upload(context, chunkCounts);
        TensorLengths = Upload(context, tensorLengths);
        Partials = new DeviceBuffer<double>(context, Count);
    }

    public int Count { get; }

    public int TensorCount { get; }

    public DeviceBuffer<long> Offsets { get; }
    public DeviceBuffer<int> Lengths { get; }
    public DeviceBuffer<int> Tensors { get; }
    public DeviceBuffer<int> TensorKinds { get; }
    public DeviceBuffer<int> TensorFirstChunks { get; }
    public DeviceBuffer<int> TensorChunkCounts { get; }
    public DeviceBuffer<long> TensorLengths { get; }

    /// <summary>One double per chunk for the kernels' sums.</summary>
    public DeviceBuffer<double> Partials { get; }

    public void Dispose()
    {
        Offsets.Dispose();
        Lengths.Dispose();
        Tensors.Dispose();
        TensorKinds.Dispose();
        TensorFirstChunks.Dispose();
        TensorChunkCounts.Dispose();
        TensorLengths.Dispose();
        Partials.Dispose();
    }

    private static DeviceBuffer<T> Upload<T>(CudaContext context, T[] values)
        where T : unmanaged
    {
        var buffer = new DeviceBuffer<T>(context, Math.Max(1, values.Length));
        buffer.Upload(values);
        return buffer;
    }
}
