namespace Tern.Quantization;

/// <summary>How one 256-weight block of a llama.cpp ternary type stores its values t ∈ {−1, 0, +1} and fp16 scale d.</summary>
internal interface ITernaryBlockLayout
{
    static abstract string Name { get; }

    static abstract int BytesPerBlock { get; }

    static abstract void Pack(ReadOnlySpan<sbyte> t, Half d, Span<byte> block);

    static abstract Half Unpack(ReadOnlySpan<byte> block, Span<sbyte> t);
}

/// <summary>
/// The block-by-block work that TQ1_0 and TQ2_0 share (sizes, checks, float and ternary encode and decode); the
/// types differ only in how a block is laid out.
/// </summary>
internal static class TernaryBlockFormat<TLayout>
    where TLayout : ITernaryBlockLayout
{
    public const int BlockSize = 256;

    private static string Name => TLayout.Name;

    private static int BytesPerBlock => TLayout.BytesPerBlock;

    public static long ByteSize(long elementCount)
    {
        FormatGuard.RequireWholeBlocks(Name, elementCount, BlockSize, nameof(elementCount));
        return checked(elementCount / BlockSize * BytesPerBlock);
    }

    public static void Encode(ReadOnlySpan<float> src, Span<byte> dst)
    {
        FormatGuard.RequireWholeBlocks(Name, src.Length, BlockSize, nameof(src));
        FormatGuard.RequireBytes(Name, src.Length, ByteSize(src.Length), dst.Length, nameof(dst));

        Span<sbyte> t = stackalloc sbyte[BlockSize];
        for (int b = 0; b < src.Length / BlockSize; b++)
        {
            float d = TernaryBlock.QuantizeAbsmax(src.Slice(b * BlockSize, BlockSize), t);
            TLayout.Pack(t, (Half)d, dst.Slice(b * BytesPerBlock, BytesPerBlock));
        }
    }

    public static void Decode(ReadOnlySpan<byte> src, Span<float> dst)
    {
        FormatGuard.RequireWholeBlocks(Name, dst.Length, BlockSize, nameof(dst));
        FormatGuard.RequireBytes(Name, dst.Length, ByteSize(dst.Length), src.Length, nameof(src));

        Span<sbyte> t = stackalloc sbyte[BlockSize];
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            float d = (float)TLayout.Unpack(src.Slice(b * BytesPerBlock, BytesPerBlock), t);
            var y = dst.Slice(b * BlockSize, BlockSize);
            for (int i = 0; i < BlockSize; i++)
                y[i] = t[i] * d;
        }
    }

    public static void EncodeTernary(ReadOnlySpan<sbyte> values, ReadOnlySpan<float> blockScales, Span<byte> dst)
    {
        FormatGuard.RequireWholeBlocks(Name, values.Length, BlockSize, nameof(values));
        FormatGuard.RequireLength(Name, "block scales", values.Length / BlockSize, blockScales.Length, nameof(blockScales));
        FormatGuard.RequireBytes(Name, values.Length, ByteSize(values.Length), dst.Length, nameof(dst));
        FormatGuard.RequireTernary(Name, values, nameof(values));

        for (int b = 0; b < blockScales.Length; b++)
            TLayout.Pack(values.Slice(b * BlockSize, BlockSize), (Half)blockScales[b], dst.Slice(b * BytesPerBlock, BytesPerBlock));
    }

    public static void EncodeTernary(ReadOnlySpan<sbyte> values, float scale, Span<byte> dst)
    {
        FormatGuard.RequireWholeBlocks(Name, values.Length, BlockSize, nameof(values));
        FormatGuard.RequireBytes(Name, values.Length, ByteSize(values.Length), dst.Length, nameof(dst));
        FormatGuard.RequireTernary(Name, values, nameof(values));

        // A block of zeros gets d = 0, as llama.cpp's quantizer writes it (d = max|x|), so files match byte for byte.
        var d = (Half)scale;
        for (int b = 0; b < values.Length / BlockSize; b++)
        {
            var block = values.Slice(b * BlockSize, BlockSize);
            TLayout.Pack(block, block.ContainsAnyExcept((sbyte)0) ? d : Half.Zero, dst.Slice(b * BytesPerBlock, BytesPerBlock));
        }
    }

    public static void DecodeTernary(ReadOnlySpan<byte> src, Span<sbyte> values, Span<float> blockScales)
    {
        FormatGuard.RequireWholeBlocks(Name, values.Length, BlockSize, nameof(values));
        FormatGuard.RequireLength(Name, "block scales", values.Length / BlockSize, blockScales.Length, nameof(blockScales));
        FormatGuard.RequireBytes(Name, values.Length, ByteSize(values.Length), src.Length, nameof(src));

        for (int b = 0; b < blockScales.Length; b++)
            blockScales[b] = (float)TLayout.Unpack(src.Slice(b * BytesPerBlock, BytesPerBlock), values.Slice(b * BlockSize, BlockSize));
    }
}
