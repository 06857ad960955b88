using Tern.Gguf;
using Tern.Kernels;
using Tern.Models;
using Tern.Quantization;
using Tern.Runtime;

namespace Tern.Tests.Inference;

/// <summary>Matrices read in place from the map compute what their decoded copies or their kernels compute.</summary>
public class MappedWeightsTests
{
    private const int Rows = 96, Columns = 512;

    [Fact]
    public void EveryInPlaceMatrixComputesItsKernelsProductAndLooksUpItsDecodedRows()
    {
        var rng = new Random(11);
        var floats = Enumerable.Range(0, Rows * Columns).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var ternary = Enumerable.Range(0, Rows * Columns).Select(_ => (sbyte)rng.Next(-1, 2)).ToArray();
        var i2s = new byte[I2SFormat.ByteSize(ternary.Length)];
        I2SFormat.Encode(ternary, 0.3f, i2s);
        var types = new[] { GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q6_K };

        using var dir = TestData.NewTempFolder();
        var writer = new GgufWriter(new GgufMetadata());
        foreach (var type in types)
        {
            var bytes = new byte[TensorCodec.ByteSize(type, floats.Length)];
            TensorCodec.Encode(type, floats, bytes);
            writer.AddTensor(type.ToString(), type, [Columns, Rows], bytes);
        }

        writer.AddTensor("t", GgmlType.I2_S, [Columns, Rows], i2s);
        writer.Write(dir.File("m.gguf"));
        using var file = GgufFile.Open(dir.File("m.gguf"));

        var x = Enumerable.Range(0, Columns).Select(_ => (float)rng.NextDouble() * 2 - 1).ToArray();
        using var pool = new WorkerPool(2);
        foreach (var type in types)
        {
            var tensor = file.GetTensor(type.ToString());
            var matrix = WeightMatrix.Load(file, tensor);
            Assert.IsAssignableFrom<BlockRowMatrix>(matrix);
            var expected = KernelProduct(type, file.GetTensorData(tensor), x);
            foreach (var threads in new WorkerPool?[] { null, pool })
            {
                // Threads split the rows and the kernel's result per row does not depend on its neighbours: bitwise equal.
                matrix.Pool = threads;
                var y = new float[Rows];
                matrix.Multiply(x, y);
                Assert.Equal(expected, y);
            }

            var decoded = new float[Columns];
            TensorCodec.Decode(type, file.GetTensorData(tensor).Slice(5 * WeightMatrix.RowBytes(type, Columns), WeightMatrix.RowBytes(type, Columns)), decoded);
            var row = new float[Columns];
            matrix.CopyRow(5, row);
            Assert.Equal(decoded, row);
        }

        var mappedTernary = WeightMatrix.Load(file, file.GetTensor("t"));
        var repacked = new TernaryWeightMatrix("t", Rows, Columns, new TernaryTensor(ternary, [0.3f], ternary.Length));
        foreach (var threads in new WorkerPool?[] { null, pool })
        {
            mappedTernary.Pool = repacked.Pool = threads;
            var (a, b) = (new float[Rows], new float[Rows]);
            mappedTernary.Multiply(x, a);
            repacked.Multiply(x, b);
            Assert.Equal(b, a);
        }
    }

    private static float[] KernelProduct(GgmlType type, ReadOnlySpan<byte> w, float[] x)
    {
        var y = new float[Rows];
        switch (type)
        {
            case GgmlType.F16:
                SixteenBitDot<HalfBits>.Rows(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(w), x, y);
                break;
            case GgmlType.BF16:
                SixteenBitDot<BFloat16Bits>.Rows(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(w), x, y);
                break;
            case GgmlType.Q8_0:
                var (q, s) = (new sbyte[Columns], new float[Columns / 32]);
                Q8_0Activations.Quantize(x, q, s);
                Q8_0Dot.Rows(w, q, s, y);
                break;
            default:
                var (q6, s6, sums) = (new sbyte[Columns], new float[Columns / 256], new short[Columns / 16]);
                Q8_KActivations.Quantize(x, q6, s6, sums);
                Q6_KDot.Rows(w, q6, s6, sums, y);
                break;
        }

        return y;
    }

    [Fact]
    public void TheF16MatrixAgreesWithItsF32DecodedCopy()
    {
        // Widening is exact; only the summation order differs from TensorPrimitives.Dot over the decoded row.
        var rng = new Random(12);
        var floats = Enumerable.Range(0, Rows * Columns).Select(_ => (float)(Half)((float)rng.NextDouble() - 0.5f)).ToArray();
        var f16 = new byte[F16Format.ByteSize(floats.Length)];
        F16Format.Encode(floats, f16);
        var half = new HalfWeightMatrix("h", Rows, Columns, MatrixBytes.InMemory(f16, Columns * 2));
        var decoded = new FloatWeightMatrix("h", Rows, Columns, floats);
        var x = Enumerable.Range(0, Columns).Select(_ => (float)rng.NextDouble() * 2 - 1).ToArray();
        var (a, b) = (new float[Rows], new float[Rows]);
        half.Multiply(x, a);
        decoded.Multiply(x, b);
        for (int r = 0; r < Rows; r++)
        {
            double magnitude = Enumerable.Range(0, Columns).Sum(i => Math.Abs((double)floats[(r * Columns) + i] * x[i]));
            Assert.True(Math.Abs(a[r] - b[r]) <= 2 * Columns * Math.Pow(2, -24) * magnitude, $"row {r}: {a[r]} against {b[r]}");
        }
    }
}
