using Tern.Formats;

namespace Tern.Conversion.HuggingFace;

/// <summary>
/// A projection packed by transformers' pack_weights: uint8 [out/4, in], where bits 2i..2i+1 of packed row r hold
/// output row i·(out/4) + r as the code value+1 (0 → −1, 1 → 0, 2 → +1). The scale comes from weight_scale.
/// </summary>
internal sealed class PackedTernaryTensor : SourceTensor
{
    private readonly SafetensorsTensor _packed;
    private readonly long _packedRows;
    private readonly float _scale;
    private readonly string _hfName;

    public PackedTernaryTensor(string name, string hfName, SafetensorsTensor packed, long outFeatures, float scale)
        : base(name, [packed.Info.Shape[1], outFeatures], TensorRole.TernaryWeight)
    {
        _packed = packed;
        _hfName = hfName;
        _packedRows = packed.Info.Shape[0];
        _scale = scale;
        if (outFeatures != _packedRows * 4)
            throw new InvalidDataException($"{packed.File.Path}: tensor '{hfName}' packs {_packedRows} rows, which hold {_packedRows * 4} output features, but the config implies {outFeatures}");
    }

    public override bool HasExactTernary => true;

    public override float TernaryScale => _scale;

    public override void ReadTernaryRows(long firstRow, int rowCount, Span<sbyte> destination)
    {
        int length = (int)RowLength;
        var bytes = new byte[length];
        for (int k = 0; k < rowCount; k++)
        {
            long row = firstRow + k;
            long packedRow = row % _packedRows;
            int shift = 2 * (int)(row / _packedRows);
            _packed.ReadBytes(packedRow * length, bytes);
            var dst = destination.Slice(k * length, length);
            for (int c = 0; c < length; c++)
            {
                int code = (bytes[c] >> shift) & 3;
                if (code == 3)
                    throw new InvalidDataException($"{_packed.File.Path}: tensor '{_hfName}' holds the code 3 (no ternary value) at packed row {packedRow}, column {c}");
                dst[c] = (sbyte)(code - 1);
            }
        }
    }

    public override void ReadRows(long firstRow, int rowCount, Span<float> destination)
    {
        var values = new sbyte[rowCount * RowLength];
        ReadTernaryRows(firstRow, rowCount, values);
        for (int i = 0; i < values.Length; i++)
            destination[i] = values[i] * _scale;
    }
}
