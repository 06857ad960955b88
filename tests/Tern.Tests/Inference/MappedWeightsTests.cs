using Tern.Gguf;
using Tern.Models;
using Tern.Quantization;
using Tern.Runtime;

namespace Tern.Tests.Inference;

/// <summary>Matrices read in place from the map compute exactly what their decoded copies compute.</summary>
public class MappedWeightsTests
{
    [Fact]
    public void F16AndI2SMatricesInTheMapEqualTheirDecodedForms()
    {
        const int rows = 96, columns = 384;
        var rng = new Random(11);
        var floats = Enumerable.Range(0, rows * columns).Select(_ => (float)(Half)((float)rng.NextDouble() - 0.5f)).ToArray();
        var ternary = Enumerable.Range(0, rows * columns).Select(_ => (sbyte)rng.Next(-1, 2)).ToArray();
        var f16 = new byte[F16Format.ByteSize(floats.Length)];
        F16Format.Encode(floats, f16);
        var i2s = new byte[I2SFormat.ByteSize(ternary.Length)];
        I2SFormat.Encode(ternary, 0.3f, i2s);

        using var dir = TestData.NewTempFolder();
        var writer = new GgufWriter(new GgufMetadata());
        writer.AddTensor("h", GgmlType.F16, [columns, rows], f16);
        writer.AddTensor("t", GgmlType.I2_S, [columns, rows], i2s);
        writer.Write(dir.File("m.gguf"));
        using var file = GgufFile.Open(dir.File("m.gguf"));

        var half = WeightMatrix.Load(file, file.GetTensor("h"));
        var mappedTernary = WeightMatrix.Load(file, file.GetTensor("t"));
        Assert.IsType<HalfWeightMatrix>(half);
        var decodedHalf = new FloatWeightMatrix("h", rows, columns, floats);
        var repacked = new TernaryWeightMatrix("t", rows, columns, new TernaryTensor(ternary, [0.3f], ternary.Length));

        var x = Enumerable.Range(0, columns).Select(_ => (float)rng.NextDouble() * 2 - 1).ToArray();
        using var pool = new WorkerPool(2);
        foreach (var threads in new WorkerPool?[] { null, pool })
        {
            half.Pool = decodedHalf.Pool = mappedTernary.Pool = repacked.Pool = threads;
            var (a, b) = (new float[rows], new float[rows]);
            half.Multiply(x, a);
            decodedHalf.Multiply(x, b);
            Assert.Equal(b, a);
            mappedTernary.Multiply(x, a);
            repacked.Multiply(x, b);
            Assert.Equal(b, a);
        }

        var row = new float[columns];
        half.CopyRow(5, row);
        Assert.Equal(floats.AsSpan(5 * columns, columns).ToArray(), row);
    }
}
