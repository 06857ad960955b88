using Tern.Gguf;

namespace Tern.Conversion;

/// <summary>
/// general.file_type: llama.cpp's llama_ftype for the dominant weight type (include/llama.h), with bitnet.cpp's
/// additions for its own types.
/// </summary>
internal static class FileTypes
{
    public static uint For(GgmlType weightType) => weightType switch
    {
        GgmlType.F32 => 0,
        GgmlType.F16 => 1,
        GgmlType.Q4_0 => 2,
        GgmlType.Q8_0 => 7,
        GgmlType.BF16 => 32,
        GgmlType.TQ1_0 => 36,
        GgmlType.TQ2_0 => 37,
        GgmlType.I2_S => 40,
        _ => throw new ArgumentOutOfRangeException(nameof(weightType), weightType, "no llama_ftype for this weight type"),
    };
}
