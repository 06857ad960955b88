namespace Tern.Gguf;

/// <summary>
/// A tensor element type, as Tern understands it. For every id that means one thing in all GGUF writers the value
/// equals the on-disk id. Ids 36–39 mean I2_S/I8_S/TL1/TL2 in bitnet.cpp files but other types upstream; the
/// bitnet.cpp meanings keep the raw id (they are what Tern reads and writes most), the upstream meanings live at
/// <see cref="UpstreamBase"/> + id and are mapped by <see cref="GgmlTypeTraits.FromFileId"/>.
/// </summary>
public enum GgmlType
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q4_2 = 4,
    Q4_3 = 5,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ2_XXS = 16,
    IQ2_XS = 17,
    IQ3_XXS = 18,
    IQ1_S = 19,
    IQ4_NL = 20,
    IQ3_S = 21,
    IQ2_S = 22,
    IQ4_XS = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    IQ1_M = 29,
    BF16 = 30,
    Q4_0_4_4 = 31,
    Q4_0_4_8 = 32,
    Q4_0_8_8 = 33,
    TQ1_0 = 34,
    TQ2_0 = 35,

    /// <summary>bitnet.cpp: 2-bit ternary codes, 128-weight blocks, one float32 scale per tensor.</summary>
    I2_S = 36,
    /// <summary>bitnet.cpp: int8 activations with a per-row scale (an internal type; never stored for weights).</summary>
    I8_S = 37,
    /// <summary>bitnet.cpp: lookup-table kernel layout for ARM; size depends on the kernel configuration.</summary>
    TL1 = 38,
    /// <summary>bitnet.cpp: lookup-table kernel layout for x86; size depends on the kernel configuration.</summary>
    TL2 = 39,

    /// <summary>Upstream only (bitnet.cpp's table ends at 39): NVIDIA FP4, 64-element blocks.</summary>
    NVFP4 = 40,
    /// <summary>Upstream only: 1-bit signs with one fp16 scale per 128 elements.</summary>
    Q1_0 = 41,
    /// <summary>Upstream only: 2-bit codes (q − 1)·d with one fp16 scale per 64 elements.</summary>
    Q2_0 = 42,

    UpstreamBase = 0x1000,
    IQ4_NL_4_4 = UpstreamBase + 36,
    IQ4_NL_4_8 = UpstreamBase + 37,
    IQ4_NL_8_8 = UpstreamBase + 38,
    MXFP4 = UpstreamBase + 39,
}
