using Tern.Cuda.Inference;

namespace Tern.Tests.Cuda;

/// <summary>
/// The 2-bit layout the CUDA ternary kernels read (<see cref="DeviceTernaryMatrix.Pack"/>), checked without a GPU: the
/// kernels' dot16 — (word >> 2s) &amp; 0x03030303, minus 1 in each byte (__vsub4), four-byte dot products (__dp4a)
/// against activations 16w + 4s … 16w + 4s + 3 — is emulated here and must give the plain integer dot product of
/// every row, padding included, on random data of odd sizes.
/// </summary>
public class TernaryCodeLayoutTests
{
    [Theory]
    [InlineData(1, 64)]
    [InlineData(3, 100)]
    [InlineData(37, 200)]
    [InlineData(5, 2560)]
    [InlineData(2, 6912)]
    public void The_kernels_dot_products_of_the_packed_codes_are_the_rows_dot_products(int rows, int columns)
    {
        var random = new Random((rows * 7919) + columns);
        var values = new sbyte[rows * columns];
        for (int i = 0; i < values.Length; i++)
            values[i] = (sbyte)(random.Next(3) - 1);
        int padded = DeviceTernaryMatrix.PaddedColumns(columns);
        Assert.Equal(0, padded % 64);
        Assert.InRange(padded - columns, 0, 63);
        var q = new sbyte[padded];
        for (int c = 0; c < columns; c++)
            q[c] = (sbyte)random.Next(-128, 128);
        // Past the columns the kernels read zeros from the activations, but the weights must add nothing either.
        for (int c = columns; c < padded; c++)
            q[c] = 127;

        uint[] codes = DeviceTernaryMatrix.Pack(values, rows, columns, padded);
        Assert.Equal((long)rows * padded / 16, codes.Length);
        for (int r = 0; r < rows; r++)
        {
            int expected = 0;
            for (int c = 0; c < columns; c++)
                expected += values[(r * columns) + c] * q[c];
            int actual = 0;
            for (int w = 0; w < padded / 16; w++)
                actual = Dot16(codes[(r * (padded / 16)) + w], q.AsSpan(w * 16, 16), actual);
            Assert.Equal(expected, actual);
        }
    }

    /// <summary>infer_ternary.cu's dot16 on one word and its sixteen activations.</summary>
    private static int Dot16(uint word, ReadOnlySpan<sbyte> a, int acc)
    {
        for (int s = 0; s < 4; s++)
        {
            uint codes = (word >> (2 * s)) & 0x03030303u;
            for (int b = 0; b < 4; b++)
            {
                int weight = (sbyte)(byte)(((codes >> (8 * b)) & 0xFF) - 1);
                acc += weight * a[(4 * s) + b];
            }
        }

        return acc;
    }
}
