namespace Tern.Cuda.Inference;

/// <summary>
/// The argmax kernel's memory (infer_sample.cu): each block's best candidate, the count of blocks done, and the
/// winning index, which stays on the device for whoever copies it out. A launch is recorded with fixed arguments,
/// so it can be captured into a CUDA graph and replayed: the kernel zeroes its count again at the end of each launch.
/// </summary>
internal sealed class DeviceArgMax : IDisposable
{
    /// <summary>ARGMAX_THREADS and ARGMAX_MAX_BLOCKS in infer_sample.cu.</summary>
    public const int Threads = 256, MaxBlocks = 256;

    /// <summary>
    /// Values a thread reads before another block pays off: a few loads in flight per thread, and for a vocabulary
    /// of 128k about 125 blocks, one per SM.
    /// </summary>
    private const int ValuesPerThread = 4;

    private readonly OwnedResources _owned = new();
    private readonly CudaKernel _kernel;
    private readonly DeviceBuffer<float> _partialValues;
    private readonly DeviceBuffer<int> _partialIndices;
    private readonly DeviceBuffer<uint> _finished;

    public DeviceArgMax(CudaContext context, CudaKernel kernel)
    {
        _kernel = kernel;
        try
        {
            _partialValues = _owned.Add(new DeviceBuffer<float>(context, MaxBlocks));
            _partialIndices = _owned.Add(new DeviceBuffer<int>(context, MaxBlocks));
            _finished = _owned.Add(new DeviceBuffer<uint>(context, 1));
            _finished.Zero();
            // The memset may still be queued when a non-blocking stream, which does not wait for it, launches the kernel.
            context.Synchronize();
            Token = _owned.Add(new DeviceBuffer<int>(context, 1));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Where each launch writes its answer.</summary>
    public DeviceBuffer<int> Token { get; } = null!;

    /// <summary>Queues <see cref="Token"/> = Session.ArgMax of the <paramref name="count"/> floats at <paramref name="values"/>.</summary>
    public void Record(DevicePointer values, int count, CudaStream stream)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        int blocks = (int)Math.Clamp(((long)count + (Threads * ValuesPerThread) - 1) / (Threads * ValuesPerThread), 1, MaxBlocks);
        var arguments = new KernelArguments();
        arguments.Add(values);
        arguments.Add(count);
        arguments.Add(_partialValues.Pointer);
        arguments.Add(_partialIndices.Pointer);
        arguments.Add(_finished.Pointer);
        arguments.Add(Token.Pointer);
        _kernel.Launch(blocks, Threads, 0, stream, ref arguments);
    }

    public void Dispose() => _owned.Dispose();
}
