using Tern.Gguf;

namespace Tern.Quantization;

/// <summary>
/// Float ↔ bytes for every tensor type Tern can write or read as floats. Encoding a ternary type from floats
/// quantizes: I2_S with absmean over the whole tensor, TQ1_0/TQ2_0 with llama.cpp's per-block absmax.
/// </summary>
public static class TensorCodec
{
    public static bool CanEncode(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16
        or GgmlType.Q8_0 or GgmlType.Q4_0 or GgmlType.Q4_K or GgmlType.Q6_K
        or GgmlType.TQ1_0 or GgmlType.TQ2_0 or GgmlType.I2_S;

    public static bool CanDecode(GgmlType type) => CanEncode(type);

    /// <summary>Bytes that elementCount elements of this type occupy; throws when the count is not a whole number of blocks.</summary>
    public static long ByteSize(GgmlType type, long elementCount) => type switch
    {
        GgmlType.F32 => F32Format.ByteSize(elementCount),
        GgmlType.F16 => F16Format.ByteSize(elementCount),
        GgmlType.BF16 => BF16Format.ByteSize(elementCount),
        GgmlType.Q8_0 => Q8_0Format.ByteSize(elementCount),
        GgmlType.Q4_0 => Q4_0Format.ByteSize(elementCount),
        GgmlType.Q4_K => Q4_KFormat.ByteSize(elementCount),
        GgmlType.Q6_K => Q6_KFormat.ByteSize(elementCount),
        GgmlType.TQ1_0 => TQ1_0Format.ByteSize(elementCount),
        GgmlType.TQ2_0 => TQ2_0Format.ByteSize(elementCount),
        GgmlType.I2_S => I2SFormat.ByteSize(elementCount),
        _ => throw Unsupported(type, "sized"),
    };

    public static void Encode(GgmlType type, ReadOnlySpan<float> src, Span<byte> dst)
    {
        CheckSizes(type, src.Length, dst.Length, "destination", nameof(dst));
        switch (type)
        {
            case GgmlType.F32: F32Format.Encode(src, dst); break;
            case GgmlType.F16: F16Format.Encode(src, dst); break;
            case GgmlType.BF16: BF16Format.Encode(src, dst); break;
            case GgmlType.Q8_0: Q8_0Format.Encode(src, dst); break;
            case GgmlType.Q4_0: Q4_0Format.Encode(src, dst); break;
            case GgmlType.Q4_K: Q4_KFormat.Encode(src, dst); break;
            case GgmlType.Q6_K: Q6_KFormat.Encode(src, dst); break;
            case GgmlType.TQ1_0: TQ1_0Format.Encode(src, dst); break;
            case GgmlType.TQ2_0: TQ2_0Format.Encode(src, dst); break;
            case GgmlType.I2_S: I2SFormat.Encode(src, dst); break;
            default: throw Unsupported(type, "encoded");
        }
    }

    public static void Decode(GgmlType type, ReadOnlySpan<byte> src, Span<float> dst)
    {
        CheckSizes(type, dst.Length, src.Length, "source", nameof(src));
        switch (type)
        {
            case GgmlType.F32: F32Format.Decode(src, dst); break;
            case GgmlType.F16: F16Format.Decode(src, dst); break;
            case GgmlType.BF16: BF16Format.Decode(src, dst); break;
            case GgmlType.Q8_0: Q8_0Format.Decode(src, dst); break;
            case GgmlType.Q4_0: Q4_0Format.Decode(src, dst); break;
            case GgmlType.Q4_K: Q4_KFormat.Decode(src, dst); break;
            case GgmlType.Q6_K: Q6_KFormat.Decode(src, dst); break;
            case GgmlType.TQ1_0: TQ1_0Format.Decode(src, dst); break;
            case GgmlType.TQ2_0: TQ2_0Format.Decode(src, dst); break;
            case GgmlType.I2_S: I2SFormat.Decode(src, dst); break;
            default: throw Unsupported(type, "decoded");
        }
    }

    private static void CheckSizes(GgmlType type, long elementCount, long byteCount, string what, string paramName)
    {
        if (!CanEncode(type))
            throw Unsupported(type, what == "destination" ? "encoded" : "decoded");
        long expected = ByteSize(type, elementCount);
        if (byteCount != expected)
            throw new ArgumentException($"{GgmlTypeTraits.NameOf(type)}: {elementCount} elements take {expected} bytes, but the {what} holds {byteCount}.", paramName);
    }

    private static ArgumentException Unsupported(GgmlType type, string verb) =>
        new($"Tensors of type {type} cannot be {verb} by Tern; supported: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K, TQ1_0, TQ2_0, I2_S.", nameof(type));
}
