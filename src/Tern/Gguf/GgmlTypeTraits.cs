using System.Collections.Frozen;

namespace Tern.Gguf;

/// <summary>
/// The table of GGML types: ids, block sizes and bytes per block, as defined by ggml's type_traits
/// (https://github.com/ggml-org/llama.cpp/blob/master/ggml/src/ggml.c) and bitnet.cpp's additions
/// (https://github.com/microsoft/BitNet, 3rdparty/llama.cpp/ggml/src/ggml.c).
/// </summary>
public static class GgmlTypeTraits
{
    /// <summary>Bytes I2_S appends after the packed codes: one float32 scale, padded to 32 bytes.</summary>
    public const int I2SScaleBytes = 32;

    /// <summary>Elements per I2_S block: 128 weights packed into 32 bytes (bitnet.cpp's x86 QK_I2_S).</summary>
    public const int I2SBlockSize = 128;

    private static readonly GgmlTypeInfo[] All =
    [
        new(GgmlType.F32, "F32", 0, 1, 4),
        new(GgmlType.F16, "F16", 1, 1, 2),
        new(GgmlType.Q4_0, "Q4_0", 2, 32, 18),
        new(GgmlType.Q4_1, "Q4_1", 3, 32, 20),
        new(GgmlType.Q4_2, "Q4_2", 4, 0, 0, Removed: true),
        new(GgmlType.Q4_3, "Q4_3", 5, 0, 0, Removed: true),
        new(GgmlType.Q5_0, "Q5_0", 6, 32, 22),
        new(GgmlType.Q5_1, "Q5_1", 7, 32, 24),
        new(GgmlType.Q8_0, "Q8_0", 8, 32, 34),
        new(GgmlType.Q8_1, "Q8_1", 9, 32, 36),
        new(GgmlType.Q2_K, "Q2_K", 10, 256, 84),
        new(GgmlType.Q3_K, "Q3_K", 11, 256, 110),
        new(GgmlType.Q4_K, "Q4_K", 12, 256, 144),
        new(GgmlType.Q5_K, "Q5_K", 13, 256, 176),
        new(GgmlType.Q6_K, "Q6_K", 14, 256, 210),
        new(GgmlType.Q8_K, "Q8_K", 15, 256, 292),
        new(GgmlType.IQ2_XXS, "IQ2_XXS", 16, 256, 66),
        new(GgmlType.IQ2_XS, "IQ2_XS", 17, 256, 74),
        new(GgmlType.IQ3_XXS, "IQ3_XXS", 18, 256, 98),
        new(GgmlType.IQ1_S, "IQ1_S", 19, 256, 50),
        new(GgmlType.IQ4_NL, "IQ4_NL", 20, 32, 18),
        new(GgmlType.IQ3_S, "IQ3_S", 21, 256, 110),
        new(GgmlType.IQ2_S, "IQ2_S", 22, 256, 82),
        new(GgmlType.IQ4_XS, "IQ4_XS", 23, 256, 136),
        new(GgmlType.I8, "I8", 24, 1, 1),
        new(GgmlType.I16, "I16", 25, 1, 2),
        new(GgmlType.I32, "I32", 26, 1, 4),
        new(GgmlType.I64, "I64", 27, 1, 8),
        new(GgmlType.F64, "F64", 28, 1, 8),
        new(GgmlType.IQ1_M, "IQ1_M", 29, 256, 56),
        new(GgmlType.BF16, "BF16", 30, 1, 2),
        new(GgmlType.Q4_0_4_4, "Q4_0_4_4", 31, 32, 18, Removed: true),
        new(GgmlType.Q4_0_4_8, "Q4_0_4_8", 32, 32, 18, Removed: true),
        new(GgmlType.Q4_0_8_8, "Q4_0_8_8", 33, 32, 18, Removed: true),
        new(GgmlType.TQ1_0, "TQ1_0", 34, 256, 54, IsTernary: true),
        new(GgmlType.TQ2_0, "TQ2_0", 35, 256, 66, IsTernary: true),
        // I2_S stores 4 codes per byte in blocks of 128 plus a per-tensor tail; its size is special-cased in TensorByteSize.
        new(GgmlType.I2_S, "I2_S", 36, I2SBlockSize, I2SBlockSize / 4, IsTernary: true),
        new(GgmlType.I8_S, "I8_S", 37, 1, 1),
        new(GgmlType.TL1, "TL1", 38, 0, 0, IsTernary: true),
        new(GgmlType.TL2, "TL2", 39, 0, 0, IsTernary: true),
        new(GgmlType.IQ4_NL_4_4, "IQ4_NL_4_4", 36, 32, 18, Removed: true),
        new(GgmlType.IQ4_NL_4_8, "IQ4_NL_4_8", 37, 32, 18, Removed: true),
        new(GgmlType.IQ4_NL_8_8, "IQ4_NL_8_8", 38, 32, 18, Removed: true),
        new(GgmlType.MXFP4, "MXFP4", 39, 32, 17),
        new(GgmlType.NVFP4, "NVFP4", 40, 64, 36),
        new(GgmlType.Q1_0, "Q1_0", 41, 128, 18),
        new(GgmlType.Q2_0, "Q2_0", 42, 64, 18),
    ];

    /// <summary>The largest type id any known writer uses.</summary>
    public const uint MaxFileId = 42;

    private static readonly FrozenDictionary<GgmlType, GgmlTypeInfo> ByType = All.ToFrozenDictionary(t => t.Type);

    private static readonly FrozenDictionary<string, GgmlTypeInfo> ByName =
        All.ToFrozenDictionary(t => t.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>Every known type.</summary>
    public static IReadOnlyList<GgmlTypeInfo> Types => All;

    /// <summary>The traits of a type.</summary>
    public static GgmlTypeInfo Get(GgmlType type) =>
        ByType.TryGetValue(type, out var info) ? info : throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown GGML type.");

    /// <summary>Finds a type by the name llama.cpp prints ("TQ2_0", "i2_s"); case-insensitive.</summary>
    public static bool TryParse(string name, out GgmlType type)
    {
        if (ByName.TryGetValue(name, out var info))
        {
            type = info.Type;
            return true;
        }

        type = default;
        return false;
    }

    /// <summary>The name llama.cpp prints for a type.</summary>
    public static string NameOf(GgmlType type) => Get(type).Name;

    /// <summary>Maps an on-disk id to a type under the given reading of ids 36–39.</summary>
    public static bool TryFromFileId(uint id, GgmlTypeDialect dialect, out GgmlType type)
    {
        if (id is >= 36 and <= 39 && dialect == GgmlTypeDialect.Upstream)
        {
            type = GgmlType.UpstreamBase + (int)id;
            return true;
        }

        if (id <= MaxFileId)
        {
            type = (GgmlType)id;
            return true;
        }

        type = default;
        return false;
    }

    /// <summary>The id written to disk for a type.</summary>
    public static uint FileId(GgmlType type) => Get(type).FileId;

    /// <summary>Whether a type with this id could be interpreted two ways.</summary>
    public static bool IsAmbiguousId(uint id) => id is >= 36 and <= 39;

    /// <summary>
    /// Bytes a tensor of this type and shape occupies, or null when the type's size does not follow from the shape.
    /// Throws <see cref="FormatException"/> when the first dimension is not a whole number of blocks.
    /// </summary>
    public static long? TensorByteSize(GgmlType type, ReadOnlySpan<long> shape)
    {
        var info = Get(type);
        if (!info.HasKnownSize)
            return null;

        long elements = 1;
        foreach (var d in shape)
        {
            if (d < 0)
                throw new FormatException($"negative dimension {d}");
            elements = checked(elements * d);
        }

        long rowLength = shape.Length > 0 ? shape[0] : 1;
        if (type == GgmlType.I2_S)
        {
            // bitnet.cpp sizes I2_S as the whole tensor's codes (n/4 bytes) plus one 32-byte scale slot.
            if (elements % 4 != 0)
                throw new FormatException($"I2_S needs a multiple of 4 elements, got {elements}");
            return checked((elements / 4) + I2SScaleBytes);
        }

        if (rowLength % info.BlockSize != 0)
            throw new FormatException($"{info.Name} needs the first dimension to be a multiple of {info.BlockSize}, got {rowLength}");
        return checked(elements / info.BlockSize * info.BytesPerBlock);
    }
}
