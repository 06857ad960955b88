using Tern.Formats;

namespace Tern.Conversion.HuggingFace;

/// <summary>
/// A projection stored unpacked as float values in {−1, 0, +1} beside a weight_scale (AutoBitLinear checkpoints
/// saved without packing). Any other value means the file is not what its config says, and is reported.
/// </summary>
internal sealed class FloatTernaryTensor(string name, SafetensorsTensor tensor, float scale)
    : SourceTensor(name, [.. tensor.Info.Shape.Reverse()], TensorRole.TernaryWeight)
{
    public override bool HasExactTernary => true;

    public override float TernaryScale => scale;

    public override void ReadTernaryRows(long firstRow, int rowCount, Span<sbyte> destination)
    {
        var floats = new float[rowCount * RowLength];
        tensor.ReadRowsAsFloat(firstRow, rowCount, floats);
        for (int i = 0; i < floats.Length; i++)
        {
            float v = floats[i];
            destination[i] = v switch
            {
                -1f => -1,
                0f => 0,
                1f => 1,
                _ => throw new InvalidDataException($"{tensor.File.Path}: tensor '{tensor.Info.Name}' has a weight_scale, so its values must be −1, 0 or +1, but row {firstRow + (i / RowLength)} holds {v}"),
            };
        }
    }

    public override void ReadRows(long firstRow, int rowCount, Span<float> destination)
    {
        var values = new sbyte[rowCount * RowLength];
        ReadTernaryRows(firstRow, rowCount, values);
        for (int i = 0; i < values.Length; i++)
            destination[i] = values[i] * scale;
    }
}
