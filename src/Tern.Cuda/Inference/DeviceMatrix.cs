namespace Tern.Cuda.Inference;

/// <summary>A matrix y = W·x of a block or the head as the device computes it: Rows outputs × Columns inputs.</summary>
internal abstract class DeviceMatrix(string name, int rows, int columns) : IDisposable
{
    public string Name { get; } = name;

    public int Rows { get; } = rows;

    public int Columns { get; } = columns;

    /// <summary>Device memory the weights take.</summary>
    public abstract long DeviceBytes { get; }

    /// <summary>Whether the product is computed by the host (an override): the stream waits for it, so no graph can hold it.</summary>
    public virtual bool ComputesOnHost => false;

    /// <summary>What the matrix is stored as on the device, for the load summary ("ternary", "F16", "host").</summary>
    public abstract string Kind { get; }

    /// <summary>
    /// Queues y[t·Rows + r] = (W·x_t)[r] for <paramref name="tokens"/> tokens on the workspace's stream, or adds it to
    /// y when <paramref name="accumulate"/> (the residual stream).
    /// </summary>
    public abstract void Multiply(InferenceWorkspace workspace, MatrixInput input, int tokens, DevicePointer y, bool accumulate);

    public abstract void Dispose();
}
