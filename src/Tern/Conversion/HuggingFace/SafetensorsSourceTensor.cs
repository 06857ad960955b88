using Tern.Formats;

namespace Tern.Conversion.HuggingFace;

/// <summary>A float tensor of a checkpoint (F32, F16, BF16…), read row by row; HF's [out, in] is ggml's [in, out].</summary>
internal sealed class SafetensorsSourceTensor(string name, SafetensorsTensor tensor, TensorRole role)
    : SourceTensor(name, [.. tensor.Info.Shape.Reverse()], role)
{
    public override void ReadRows(long firstRow, int rowCount, Span<float> destination) =>
        tensor.ReadRowsAsFloat(firstRow, rowCount, destination);
}
