using Tern.Cuda.Inference;

namespace Tern.Tests.Cuda;

/// <summary>
/// The 2-bit layout the CUDA ternary kernels read (<see cref="DeviceTernaryMatrix.Pack"/>), checked without a GPU: the
/// kernels' dot16 — (word >> 2s) &amp; 0x03030303, minus 1 in each byte (__vsub4), four-byte dot products (__dp4a)
/// against activations 16w + 4s … 16w + 4s + 3 — is emulated here and must give the plain integer dot product of
/// every row, padding included, on random data of odd sizes; so must the decoding kernels' codes_dot64.
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

            // The decoding kernels' way: the codes as they lie, masked field by field (codes_dot64), less Σ a.
            int fields = 0, activations = 0;
            for (int g = 0; g < padded / 64; g++)
            {
                var group = codes.AsSpan((r * (padded / 16)) + (g * 4), 4);
                fields += CodesDot64(group, q.AsSpan(g * 64, 64));
                foreach (sbyte a in q.AsSpan(g * 64, 64))
                    activations += a;
            }
            Assert.Equal(expected, fields - activations);
        }
    }

    /// <summary>
    /// infer_ternary.cu's codes_dot64 on a group's four words and 64 activations: word j, masked with field s's mask,
    /// meets activations 16j + 4s … 16j + 4s + 3 through an unsigned-by-signed four-byte product, and each field's sum
    /// is divided back by 4^s.
    /// </summary>
    private static int CodesDot64(ReadOnlySpan<uint> words, ReadOnlySpan<sbyte> a)
    {
        int total = 0;
        for (int s = 0; s < 4; s++)
        {
            uint mask = 0x03030303u << (2 * s);
            int field = 0;
            for (int j = 0; j < 4; j++)
            {
                uint masked = words[j] & mask;
                for (int b = 0; b < 4; b++)
                    field += (int)((masked >> (8 * b)) & 0xFF) * a[(16 * j) + (4 * s) + b];
            }
            Assert.Equal(0, field % (1 << (2 * s)));
            total += field >> (2 * s);
        }

        return total;
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
