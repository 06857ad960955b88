using Tern.Gguf;

namespace Tern.Quantization;

/// <summary>
/// Moves ternary values between I2_S, TQ2_0 and TQ1_0 without going through floats, so conversions among them
/// keep every value. The one exception is the scale: I2_S keeps a float32 per tensor, TQ types an fp16 per block,
/// so a scale moves into TQ exactly only when <see cref="F16Format.IsExactInHalf"/> holds.
/// </summary>
public static class TernaryCodec
{
    public static bool IsTernary(GgmlType type) => type is GgmlType.I2_S or GgmlType.TQ2_0 or GgmlType.TQ1_0;

    /// <summary>Elements per block; a row must be a whole number of them.</summary>
    public static int BlockSize(GgmlType type) => type switch
    {
        GgmlType.I2_S => I2SFormat.BlockSize,
        GgmlType.TQ2_0 => TQ2_0Format.BlockSize,
        GgmlType.TQ1_0 => TQ1_0Format.BlockSize,
        _ => throw NotTernary(type),
    };

    public static long ByteSize(GgmlType type, long elementCount) => type switch
    {
        GgmlType.I2_S => I2SFormat.ByteSize(elementCount),
        GgmlType.TQ2_0 => TQ2_0Format.ByteSize(elementCount),
        GgmlType.TQ1_0 => TQ1_0Format.ByteSize(elementCount),
        _ => throw NotTernary(type),
    };

    /// <summary>Packs a tensor held as one row, with one scale for the whole tensor.</summary>
    public static void EncodeTernary(GgmlType type, ReadOnlySpan<sbyte> values, float scale, Span<byte> dst) =>
        EncodeTernary(type, values, scale, dst, values.Length);

    /// <summary>
    /// Packs a tensor of rows of rowLength values, with one scale for the whole tensor (copied into every TQ block).
    /// </summary>
    public static void EncodeTernary(GgmlType type, ReadOnlySpan<sbyte> values, float scale, Span<byte> dst, long rowLength)
    {
        CheckShape(type, values.Length, rowLength);
        CheckDestination(type, values.Length, dst.Length);
        switch (type)
        {
            case GgmlType.I2_S:
                I2SFormat.Encode(values, scale, dst);
                break;
            case GgmlType.TQ2_0:
                TQ2_0Format.EncodeTernary(values, scale, dst);
                break;
            default:
                TQ1_0Format.EncodeTernary(values, scale, dst);
                break;
        }
    }

    /// <summary>
    /// Packs a decoded tensor into any ternary type. Into I2_S the tensor must have one scale
    /// (<see cref="TernaryTensor.TryGetUniformScale"/>); into TQ types blocks of 256 keep their own scales
    /// when the source had them, or all take the source's single scale.
    /// </summary>
    public static void EncodeTernary(GgmlType type, TernaryTensor tensor, Span<byte> dst)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        CheckShape(type, tensor.Values.Length, tensor.Values.Length);
        CheckDestination(type, tensor.Values.Length, dst.Length);

        if (type == GgmlType.I2_S || tensor.BlockSize % TQ2_0Format.BlockSize != 0)
        {
            if (!tensor.TryGetUniformScale(out float scale))
            {
                throw new ArgumentException(
                    $"{GgmlTypeTraits.NameOf(type)}: the tensor's blocks have different scales, which this type cannot hold without changing values.",
                    nameof(tensor));
            }

            EncodeTernary(type, tensor.Values, scale, dst);
            return;
        }

        // Each source block covers a whole number of 256-element TQ blocks; spread its scale over them.
        int perSource = tensor.BlockSize / TQ2_0Format.BlockSize;
        var scales = new float[tensor.Values.Length / TQ2_0Format.BlockSize];
        for (int i = 0; i < scales.Length; i++)
            scales[i] = tensor.BlockScales[i / perSource];

        if (type == GgmlType.TQ2_0)
            TQ2_0Format.EncodeTernary(tensor.Values, scales, dst);
        else
            TQ1_0Format.EncodeTernary(tensor.Values, scales, dst);
    }

    /// <summary>Unpacks a ternary tensor of elementCount values.</summary>
    public static TernaryTensor DecodeTernary(GgmlType type, ReadOnlySpan<byte> src, long elementCount)
    {
        if (!IsTernary(type))
            throw NotTernary(type);
        if (elementCount < 0 || elementCount > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(elementCount), elementCount, $"{GgmlTypeTraits.NameOf(type)}: element count out of range for one array.");
        CheckShape(type, elementCount, elementCount);
        long expected = ByteSize(type, elementCount);
        if (src.Length != expected)
            throw new InvalidDataException($"{GgmlTypeTraits.NameOf(type)}: {elementCount} elements take {expected} bytes, but the data holds {src.Length}.");

        var values = new sbyte[elementCount];
        switch (type)
        {
            case GgmlType.I2_S:
            {
                float scale = I2SFormat.Decode(src, values);
                return new TernaryTensor(values, [scale], Math.Max(1, values.Length));
            }

            case GgmlType.TQ2_0:
            {
                var scales = new float[elementCount / TQ2_0Format.BlockSize];
                TQ2_0Format.DecodeTernary(src, values, scales);
                return new TernaryTensor(values, scales, TQ2_0Format.BlockSize);
            }

            default:
            {
                var scales = new float[elementCount / TQ1_0Format.BlockSize];
                TQ1_0Format.DecodeTernary(src, values, scales);
                return new TernaryTensor(values, scales, TQ1_0Format.BlockSize);
            }
        }
    }

    private static void CheckShape(GgmlType type, long elementCount, long rowLength)
    {
        int block = BlockSize(type);
        string name = GgmlTypeTraits.NameOf(type);
        if (rowLength <= 0 && elementCount > 0)
            throw new ArgumentOutOfRangeException(nameof(rowLength), rowLength, $"{name}: the row length must be positive.");
        if (rowLength > 0 && rowLength % block != 0)
            throw new ArgumentException($"{name}: a row of {rowLength} elements is not a whole number of {block}-element blocks.", nameof(rowLength));
        if (rowLength > 0 && elementCount % rowLength != 0)
            throw new ArgumentException($"{name}: {elementCount} elements are not a whole number of rows of {rowLength}.", nameof(rowLength));
    }

    private static void CheckDestination(GgmlType type, long elementCount, long actual, string paramName = "dst")
    {
        long expected = ByteSize(type, elementCount);
        if (actual != expected)
            throw new ArgumentException($"{GgmlTypeTraits.NameOf(type)}: {elementCount} elements take {expected} bytes, but the destination holds {actual}.", paramName);
    }

    private static ArgumentException NotTernary(GgmlType type) =>
        new($"{type} is not a ternary type; expected I2_S, TQ2_0 or TQ1_0.", nameof(type));
}
