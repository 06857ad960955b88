using Tern.Models;

namespace Tern.Cuda.Inference;

/// <summary>
/// A matrix of a device block that an override keeps on the host (<c>--override-tensor NAME=cpu</c>): the stream
/// waits, the input floats come down, the host's own matrix computes, and the product goes back up (added to y by
/// add_rows when it is a residual). Correct but slow by design: it is how one measures what a tensor on the host costs.
/// </summary>
internal sealed class HostComputedMatrix(WeightMatrix host) : DeviceMatrix(host.Name, host.Rows, host.Columns)
{
    private float[] _input = [], _output = [];

    public override long DeviceBytes => 0;

    public override bool ComputesOnHost => true;

    public override string Kind => "host";

    public override void Multiply(InferenceWorkspace workspace, MatrixInput input, int tokens, DevicePointer y, bool accumulate)
    {
        if (_input.Length < tokens * Columns)
            _input = new float[tokens * Columns];
        if (_output.Length < tokens * Rows)
            _output = new float[tokens * Rows];
        workspace.Stream.Synchronize();
        workspace.Download(input.Floats, _input.AsSpan(0, tokens * Columns));
        host.Multiply(_input.AsMemory(0, tokens * Columns), _output.AsMemory(0, tokens * Rows), tokens);
        workspace.AddOrSet(_output.AsSpan(0, tokens * Rows), tokens, Rows, y, accumulate);
    }

    public override void Dispose()
    {
    }
}
