namespace Tern.Quantization;

/// <summary>
/// A tensor's ternary values with their scales, independent of the packing: element i is Values[i]·BlockScales[i / BlockSize].
/// I2_S decodes to one block spanning the whole tensor; TQ1_0/TQ2_0 to one scale per 256 elements.
/// </summary>
public sealed class TernaryTensor
{
    public TernaryTensor(sbyte[] values, float[] blockScales, int blockSize)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(blockScales);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSize);
        long expectedBlocks = ((long)values.Length + blockSize - 1) / blockSize;
        if (blockScales.Length != expectedBlocks && !(values.Length == 0 && blockScales.Length == 1))
            throw new ArgumentException($"{values.Length} values in blocks of {blockSize} need {expectedBlocks} scales, got {blockScales.Length}.", nameof(blockScales));

        Values = values;
        BlockScales = blockScales;
        BlockSize = blockSize;
    }

    public sbyte[] Values { get; }

    public float[] BlockScales { get; }

    /// <summary>Elements that share one scale.</summary>
    public int BlockSize { get; }

    /// <summary>
    /// True when every block holding a nonzero value has the same scale (compared as floats); blocks of zeros
    /// don't count, because their scale changes nothing. For an all-zero tensor the scale is the first block's (0 if none).
    /// </summary>
    public bool TryGetUniformScale(out float scale)
    {
        bool found = false;
        scale = 0f;
        for (int b = 0; b < BlockScales.Length; b++)
        {
            int start = b * BlockSize;
            var block = Values.AsSpan(start, Math.Min(BlockSize, Values.Length - start));
            if (!block.ContainsAnyExcept((sbyte)0))
                continue;

            if (!found)
            {
                scale = BlockScales[b];
                found = true;
            }
            else if (!BlockScales[b].Equals(scale))
            {
                return false;
            }
        }

        if (!found && BlockScales.Length > 0)
            scale = BlockScales[0];
        return true;
    }
}
