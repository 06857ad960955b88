namespace Tern.Gguf;

/// <summary>How a type is laid out: elements per block and bytes per block (the block is the unit of a row).</summary>
/// <param name="Type">The logical type.</param>
/// <param name="Name">The name llama.cpp and bitnet.cpp print for it.</param>
/// <param name="FileId">The id stored in a GGUF tensor info.</param>
/// <param name="BlockSize">Elements per block; 0 when the size cannot be computed from the shape alone.</param>
/// <param name="BytesPerBlock">Bytes per block; 0 when the size cannot be computed from the shape alone.</param>
/// <param name="IsTernary">True for the formats that store weights in {−1, 0, +1}.</param>
/// <param name="Removed">True for ids that no current writer produces (kept so that old files can be described).</param>
public sealed record GgmlTypeInfo(
    GgmlType Type,
    string Name,
    uint FileId,
    int BlockSize,
    int BytesPerBlock,
    bool IsTernary = false,
    bool Removed = false)
{
    /// <summary>Whether the byte size of a tensor follows from its shape.</summary>
    public bool HasKnownSize => BlockSize > 0;

    /// <summary>Bits per weight as stored, without per-tensor extras (I2_S's trailing scale).</summary>
    public double BitsPerWeight => HasKnownSize ? 8.0 * BytesPerBlock / BlockSize : double.NaN;
}
