using Tern.Runtime;
using Tern.Training.Layers;

namespace Tern.Tests.Training;

public class GemmTests
{
    public static TheoryData<int, int, int, bool, bool> Shapes()
    {
        var data = new TheoryData<int, int, int, bool, bool>();
        foreach (var (m, n, k) in new[] { (1, 1, 1), (5, 17, 3), (6, 16, 256), (73, 129, 257), (150, 33, 600), (7, 300, 70) })
        {
            foreach (bool ta in new[] { false, true })
            {
                foreach (bool tb in new[] { false, true })
                    data.Add(m, n, k, ta, tb);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Float_and_double_products_equal_a_triple_loop(int m, int n, int k, bool transA, bool transB)
    {
        var random = new Random(m * 1000 + n * 10 + k);
        int lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 2, ldc = n + 1;
        var a = Enumerable.Range(0, (transA ? k : m) * lda + 5).Select(_ => random.NextDouble() - 0.5).ToArray();
        var b = Enumerable.Range(0, (transB ? n : k) * ldb + 5).Select(_ => random.NextDouble() - 0.5).ToArray();
        var c0 = Enumerable.Range(0, m * ldc + 4).Select(_ => random.NextDouble() - 0.5).ToArray();
        var opA = new MatrixOperand<double>(a, 2, lda, transA);
        var opB = new MatrixOperand<double>(b, 1, ldb, transB);

        var expected = (double[])c0.Clone();
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                    sum += opA[i, p] * opB[p, j];
                expected[3 + (i * ldc) + j] += sum;
            }
        }

        foreach (bool accumulate in new[] { true, false })
        {
            var cd = (double[])c0.Clone();
            Gemm.Multiply(null, m, n, k, opA, opB, cd, 3, ldc, accumulate);
            var cf = c0.Select(v => (float)v).ToArray();
            Gemm.Multiply(null, m, n, k, new MatrixOperand<float>(a.Select(v => (float)v).ToArray(), 2, lda, transA), new MatrixOperand<float>(b.Select(v => (float)v).ToArray(), 1, ldb, transB), cf, 3, ldc, accumulate);
            for (int idx = 0; idx < c0.Length; idx++)
            {
                int i = (idx - 3) / ldc, j = (idx - 3) % ldc;
                bool inside = idx >= 3 && i < m && j < n;
                double want = !inside ? c0[idx] : accumulate ? expected[idx] : expected[idx] - c0[idx];
                Assert.True(Math.Abs(cd[idx] - want) < 1e-12, $"double [{i},{j}] {cd[idx]} vs {want}");
                Assert.True(Math.Abs(cf[idx] - want) < 2e-5 * Math.Sqrt(k + 1), $"float [{i},{j}] {cf[idx]} vs {want}");
            }
        }
    }

    [Fact]
    public void Results_do_not_depend_on_the_thread_count()
    {
        var random = new Random(7);
        int m = 300, n = 200, k = 700;
        var a = Enumerable.Range(0, m * k).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        var b = Enumerable.Range(0, k * n).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        var one = new float[m * n];
        var three = new float[m * n];
        Gemm.Multiply(null, m, n, k, new MatrixOperand<float>(a, 0, k), new MatrixOperand<float>(b, 0, n), one, 0, n, false);
        using var pool = new WorkerPool(3);
        Gemm.Multiply(pool, m, n, k, new MatrixOperand<float>(a, 0, k), new MatrixOperand<float>(b, 0, n), three, 0, n, false);
        Assert.Equal(one, three);
    }
}
