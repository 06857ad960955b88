using System.Buffers.Binary;

namespace Tern.Quantization;

/// <summary>
/// bitnet.cpp's I2_S (GGUF type 36), the x86 layout its converters and llama-quantize write by default:
/// the whole tensor, flattened, is cut into blocks of 128 weights → 32 bytes; byte j of a block holds elements
/// j, j+32, j+64, j+96 in bits 7-6, 5-4, 3-2, 1-0; codes −1→00, 0→01, +1→10 (11 is read as 0, as
/// dequantize_row_i2_s does). After the n/4 code bytes one float32 scale (little-endian) and 28 zero bytes
/// pad the tensor to n/4 + 32 bytes.
/// <para>
/// Partial blocks do not exist in practice: quantize_i2_s packs only n/128 whole blocks and puts the scale at
/// byte n/4, which would land inside a partial block, so the element count must be a multiple of 128.
/// bitnet.cpp's ARM build (QK_I2_S = 64, 16-byte groups) and its weight-parallel x86 variant (rows interleaved 4 by 4)
/// write different layouts under the same type id; those are not this format.
/// </para>
/// Definition: https://github.com/microsoft/BitNet/blob/main/src/ggml-bitnet-mad.cpp (quantize_i2_s, ACT_PARALLEL branch,
/// the default in include/gemm-config.h) and
/// https://github.com/microsoft/BitNet/blob/main/utils/convert-hf-to-gguf-bitnet.py (quantize_to_i2_s, which zeroes the tail).
/// </summary>
public static class I2SFormat
{
    public const int BlockSize = 128;
    public const int BytesPerBlock = BlockSize / 4;

    /// <summary>Bytes after the codes: the float32 scale, then zero padding.</summary>
    public const int TailBytes = 32;

    private const int GroupLength = BlockSize / 4;

    public static long ByteSize(long elementCount)
    {
        FormatGuard.RequireWholeBlocks("I2_S", elementCount, BlockSize, nameof(elementCount));
        return checked((elementCount / 4) + TailBytes);
    }

    /// <summary>The 2-bit code of a ternary value.</summary>
    public static int CodeOf(sbyte value) => value + 1;

    /// <summary>The ternary value of a 2-bit code; code 3 is unused and reads as 0.</summary>
    // A table, not a switch: codes are random, so a branch per weight mispredicts about half the time.
    public static sbyte ValueOf(int code) => CodeValues[code & 3];

    private static ReadOnlySpan<sbyte> CodeValues => [-1, 0, 1, 0];

    public static void Encode(ReadOnlySpan<sbyte> ternary, float scale, Span<byte> dst)
    {
        FormatGuard.RequireBytes("I2_S", ternary.Length, ByteSize(ternary.Length), dst.Length, nameof(dst));
        EncodeCodes(ternary, dst[..(ternary.Length / 4)]);
        WriteTail(scale, dst[(ternary.Length / 4)..]);
    }

    /// <summary>
    /// Packs whole blocks of ternary values into their n/4 bytes of codes, without the scale tail: a tensor written in
    /// pieces (the converter's row chunks) or rows repacked for a kernel.
    /// </summary>
    public static void EncodeCodes(ReadOnlySpan<sbyte> ternary, Span<byte> codes)
    {
        FormatGuard.RequireWholeBlocks("I2_S", ternary.Length, BlockSize, nameof(ternary));
        FormatGuard.RequireLength("I2_S", "code bytes", ternary.Length / 4, codes.Length, nameof(codes));
        FormatGuard.RequireTernary("I2_S", ternary, nameof(ternary));
        var dst = codes;
        for (int b = 0; b < ternary.Length / BlockSize; b++)
        {
            var v = ternary.Slice(b * BlockSize, BlockSize);
            var block = dst.Slice(b * BytesPerBlock, BytesPerBlock);
            for (int j = 0; j < GroupLength; j++)
            {
                block[j] = (byte)((CodeOf(v[j]) << 6)
                    | (CodeOf(v[j + GroupLength]) << 4)
                    | (CodeOf(v[j + (2 * GroupLength)]) << 2)
                    | CodeOf(v[j + (3 * GroupLength)]));
            }
        }

    }

    /// <summary>The 32 bytes after the codes: the float32 scale, then zeros.</summary>
    public static void WriteTail(float scale, Span<byte> tail)
    {
        FormatGuard.RequireLength("I2_S", "tail bytes", TailBytes, tail.Length, nameof(tail));
        tail.Clear();
        BinaryPrimitives.WriteSingleLittleEndian(tail, scale);
    }

    /// <summary>Quantizes float weights with absmean (γ = mean|W| over the whole tensor) and packs them; returns γ.</summary>
    public static float Encode(ReadOnlySpan<float> weights, Span<byte> dst)
    {
        FormatGuard.RequireWholeBlocks("I2_S", weights.Length, BlockSize, nameof(weights));
        FormatGuard.RequireBytes("I2_S", weights.Length, ByteSize(weights.Length), dst.Length, nameof(dst));
        var q = new sbyte[weights.Length];
        float gamma = AbsmeanTernaryQuantizer.Quantize(weights, q);
        Encode(q, gamma, dst);
        return gamma;
    }

    /// <summary>Unpacks the ternary values and returns the tensor's scale.</summary>
    public static float Decode(ReadOnlySpan<byte> src, Span<sbyte> ternary)
    {
        FormatGuard.RequireWholeBlocks("I2_S", ternary.Length, BlockSize, nameof(ternary));
        FormatGuard.RequireBytes("I2_S", ternary.Length, ByteSize(ternary.Length), src.Length, nameof(src));

        for (int b = 0; b < ternary.Length / BlockSize; b++)
        {
            var block = src.Slice(b * BytesPerBlock, BytesPerBlock);
            var v = ternary.Slice(b * BlockSize, BlockSize);
            for (int j = 0; j < GroupLength; j++)
            {
                int packed = block[j];
                v[j] = ValueOf((packed >> 6) & 3);
                v[j + GroupLength] = ValueOf((packed >> 4) & 3);
                v[j + (2 * GroupLength)] = ValueOf((packed >> 2) & 3);
                v[j + (3 * GroupLength)] = ValueOf(packed & 3);
            }
        }

        return ReadScale(src, ternary.Length);
    }

    /// <summary>Decodes to floats: value·scale.</summary>
    public static void Decode(ReadOnlySpan<byte> src, Span<float> dst)
    {
        FormatGuard.RequireWholeBlocks("I2_S", dst.Length, BlockSize, nameof(dst));
        FormatGuard.RequireBytes("I2_S", dst.Length, ByteSize(dst.Length), src.Length, nameof(src));

        float scale = ReadScale(src, dst.Length);
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            var block = src.Slice(b * BytesPerBlock, BytesPerBlock);
            var y = dst.Slice(b * BlockSize, BlockSize);
            for (int j = 0; j < GroupLength; j++)
            {
                int packed = block[j];
                y[j] = ValueOf((packed >> 6) & 3) * scale;
                y[j + GroupLength] = ValueOf((packed >> 4) & 3) * scale;
                y[j + (2 * GroupLength)] = ValueOf((packed >> 2) & 3) * scale;
                y[j + (3 * GroupLength)] = ValueOf(packed & 3) * scale;
            }
        }
    }

    /// <summary>The float32 scale stored after the codes of a tensor of elementCount weights.</summary>
    public static float ReadScale(ReadOnlySpan<byte> src, long elementCount)
    {
        FormatGuard.RequireBytes("I2_S", elementCount, ByteSize(elementCount), src.Length, nameof(src));
        return BinaryPrimitives.ReadSingleLittleEndian(src[(int)(elementCount / 4)..]);
    }
}
