using Tern.Models;
using Tern.Quantization;
using Tern.Runtime;

namespace Tern.Tests.Inference;

/// <summary>A product over many tokens equals, bit for bit, the products of the tokens one at a time.</summary>
public class BatchedProductTests
{
    [Theory]
    [InlineData(1, 128, 1)]
    [InlineData(70, 384, 5)]
    [InlineData(33, 256, 64)]
    [InlineData(97, 640, 9)]
    public void TernaryMatrixOverManyTokensEqualsTokenByToken(int rows, int columns, int tokens)
    {
        var rng = new Random((rows * 31) + tokens);
        var w = Enumerable.Range(0, rows * columns).Select(_ => (sbyte)rng.Next(-1, 2)).ToArray();
        var matrix = new TernaryWeightMatrix("w", rows, columns, new TernaryTensor(w, [0.37f], w.Length));
        var x = Enumerable.Range(0, tokens * columns).Select(_ => (float)((rng.NextDouble() * 4) - 2)).ToArray();

        // Independent reference: DESIGN.md's BitLinear, written out with the reference quantizer.
        var expected = new float[tokens * rows];
        for (int t = 0; t < tokens; t++)
        {
            var q = new sbyte[columns];
            float s = AbsmaxInt8Quantizer.Quantize(x.AsSpan(t * columns, columns), q);
            for (int r = 0; r < rows; r++)
            {
                int dot = 0;
                for (int j = 0; j < columns; j++)
                    dot += w[(r * columns) + j] * q[j];
                expected[(t * rows) + r] = dot * (0.37f / s);
            }
        }

        using var pool = new WorkerPool(3);
        foreach (var threads in new WorkerPool?[] { null, pool })
        {
            matrix.Pool = threads;
            var batched = new float[tokens * rows];
            matrix.Multiply(x, batched, tokens);
            Assert.Equal(expected, batched);
            var single = new float[rows];
            for (int t = 0; t < tokens; t++)
            {
                matrix.Multiply(x.AsSpan(t * columns, columns), single);
                Assert.Equal(expected.AsSpan(t * rows, rows).ToArray(), single);
            }
        }
    }

    [Theory]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(33)]
    [InlineData(100)]
    public void VectorQuantizerEqualsTheScalarDefinition(int length)
    {
        var rng = new Random(length);
        var x = Enumerable.Range(0, length).Select(_ => (float)((rng.NextDouble() * 6) - 3)).ToArray();
        // Exact halves after scaling: with max|x| = 127 the scale is 1, and x.5 must round to even.
        x[0] = 127f;
        for (int i = 1; i < Math.Min(length, 12); i++)
            x[i] = (i % 2 == 0 ? -1 : 1) * (i + 0.5f);
        var q = new sbyte[length];
        float s = AbsmaxInt8Quantizer.Quantize(x, q, out int sum);
        Assert.Equal(1f, s);
        for (int i = 0; i < length; i++)
            Assert.Equal((sbyte)Math.Clamp(MathF.Round(x[i] * s, MidpointRounding.ToEven), -128, 127), q[i]);
        Assert.Equal(q.Sum(v => v), sum);
    }
}
