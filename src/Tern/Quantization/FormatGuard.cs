namespace Tern.Quantization;

/// <summary>Size checks shared by the formats, so every format words its errors the same way.</summary>
internal static class FormatGuard
{
    public static void RequireWholeBlocks(string format, long elements, int blockSize, string paramName)
    {
        if (elements < 0 || elements % blockSize != 0)
            throw new ArgumentException($"{format}: {elements} elements is not a whole number of {blockSize}-element blocks.", paramName);
    }

    public static void RequireBytes(string format, long elements, long expectedBytes, long actualBytes, string paramName)
    {
        if (expectedBytes != actualBytes)
            throw new ArgumentException($"{format}: {elements} elements take {expectedBytes} bytes, but the buffer holds {actualBytes}.", paramName);
    }

    public static void RequireLength(string format, string what, long expected, long actual, string paramName)
    {
        if (expected != actual)
            throw new ArgumentException($"{format}: expected {expected} {what}, got {actual}.", paramName);
    }

    public static void RequireTernary(string format, ReadOnlySpan<sbyte> values, string paramName)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (values[i] is < -1 or > 1)
                throw new ArgumentException($"{format}: value {values[i]} at index {i} is not ternary (−1, 0 or +1).", paramName);
        }
    }
}
