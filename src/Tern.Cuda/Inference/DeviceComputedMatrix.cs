using Tern.Models;

namespace Tern.Cuda.Inference;

/// <summary>
/// A matrix of a host block that an override sends to the GPU (<c>--override-tensor NAME=cuda</c>): the host's
/// <see cref="WeightMatrix"/> in the block's place, whose products go up, run on the device (quantized there as the
/// CPU would) and come back. Each product waits for the device.
/// </summary>
internal sealed class DeviceComputedMatrix(DeviceMatrix device, InferenceWorkspace workspace)
    : WeightMatrix(device.Name, device.Rows, device.Columns)
{
    public override void Multiply(ReadOnlySpan<float> x, Span<float> y) => Compute(x, y, 1);

    public override void Multiply(ReadOnlyMemory<float> x, Memory<float> y, int tokens) => Compute(x.Span, y.Span, tokens);

    private void Compute(ReadOnlySpan<float> x, Span<float> y, int tokens)
    {
        int chunk = workspace.Shape.Tokens;
        for (int t0 = 0; t0 < tokens; t0 += chunk)
        {
            int n = Math.Min(chunk, tokens - t0);
            var input = workspace.StageInput(x.Slice(t0 * Columns, n * Columns), n, Columns);
            device.Multiply(workspace, input, n, workspace.Scratch.Pointer, accumulate: false);
            workspace.Download(workspace.Scratch.Pointer, y.Slice(t0 * Rows, n * Rows));
        }
    }
}
