using Tern.Quantization;
using static Tern.Cuda.DeviceTests.CheckFailedException;

namespace Tern.Cuda.DeviceTests;

/// <summary>
/// cuBLASLt products against a float64 CPU reference on random data of odd sizes, every transpose combination,
/// by ‖out − ref‖/‖ref‖: float32 under 1e-5, TF32 under 3e-3, bfloat16 inputs under 1e-2. The output starts as NaN
/// so an element left unwritten fails, and padding between rows must stay NaN.
/// </summary>
internal static class GemmChecks
{
    private const int M = 257, N = 129, K = 65;

    public static void Run(DeviceCheckRunner runner, CudaContext context, Random random)
    {
        using var gemm = new CublasGemm(context);
        foreach ((GemmPrecision precision, double threshold) in new[]
        {
            (GemmPrecision.Float32, 1e-5), (GemmPrecision.Float32ViaTf32, 3e-3), (GemmPrecision.BFloat16, 1e-2),
        })
        {
            foreach ((bool transposeA, bool transposeB) in new[] { (false, false), (false, true), (true, false), (true, true) })
            {
                var description = new GemmDescription(M, N, K, precision, transposeA, transposeB);
                runner.Run($"GEMM {description}", () => Product(context, gemm, random, description, threshold, 1f, 0f));
            }
        }
        var strided = new GemmDescription(M, N, K, GemmPrecision.Float32, TransposeB: true)
        {
            LeadingDimensionA = K + 3,
            LeadingDimensionB = K + 5,
            LeadingDimensionC = N + 7,
        };
        runner.Run($"GEMM {strided}, padded rows, α = 0.75, β = -0.5", () => Product(context, gemm, random, strided, 1e-5, 0.75f, -0.5f));
        var bf16Accumulate = new GemmDescription(M, N, K, GemmPrecision.BFloat16, TransposeB: true);
        runner.Run($"GEMM {bf16Accumulate}, α = 2, β = 1", () => Product(context, gemm, random, bf16Accumulate, 1e-2, 2f, 1f));
        runner.Run("GEMM plans cached per shape", () =>
        {
            int before = gemm.CachedPlanCount;
            Product(context, gemm, random, new GemmDescription(M, N, K, GemmPrecision.Float32), 1e-5, 1f, 0f);
            Expect(gemm.CachedPlanCount == before, $"a repeated shape added a plan ({before} → {gemm.CachedPlanCount})");
            return $"{before} plans for the shapes above; cuBLASLt {gemm.Version}, workspace {gemm.WorkspaceBytes >> 20} MiB";
        });
    }

    private static string Product(CudaContext context, CublasGemm gemm, Random random, GemmDescription description,
        double threshold, float alpha, float beta)
    {
        float[] a = CpuReference.RandomUniform(random, description.ElementsA);
        float[] b = CpuReference.RandomUniform(random, description.ElementsB);
        float[] c0 = CpuReference.RandomUniform(random, description.ElementsC);
        for (int i = 0; i < M; i++)
        {
            for (long j = N; j < description.RowStrideC && (long)i * description.RowStrideC + j < c0.Length; j++)
                c0[(long)i * description.RowStrideC + j] = float.NaN;
        }

        using var deviceC = new DeviceBuffer<float>(context, description.ElementsC);
        if (beta == 0)
            deviceC.FillWords(0xFFFF_FFFF);
        else
            deviceC.Upload(c0);

        string extra = "";
        if (description.Precision == GemmPrecision.BFloat16)
        {
            ushort[] a16 = a.Select(BF16Format.FromSingle).ToArray();
            ushort[] b16 = b.Select(BF16Format.FromSingle).ToArray();
            using var deviceA = new DeviceBuffer<ushort>(context, a16.Length);
            using var deviceB = new DeviceBuffer<ushort>(context, b16.Length);
            deviceA.Upload(a16);
            deviceB.Upload(b16);
            gemm.Multiply(description, deviceA, deviceB, deviceC, alpha, beta);
            // The same product on the rounded inputs isolates the accumulation from the input rounding.
            double[] roundedReference = CpuReference.Gemm(description, a16.Select(BF16Format.ToSingle).ToArray(),
                b16.Select(BF16Format.ToSingle).ToArray(), beta == 0 ? null : c0, alpha, beta);
            extra = $", {CpuReference.RelativeError(deviceC.ToArray(), roundedReference, M, N, description.RowStrideC):E2} against the bf16-rounded inputs";
        }
        else
        {
            using var deviceA = new DeviceBuffer<float>(context, a.Length);
            using var deviceB = new DeviceBuffer<float>(context, b.Length);
            deviceA.Upload(a);
            deviceB.Upload(b);
            gemm.Multiply(description, deviceA, deviceB, deviceC, alpha, beta);
        }
        context.Synchronize();

        float[] c = deviceC.ToArray();
        double[] reference = CpuReference.Gemm(description, a, b, beta == 0 ? null : c0, alpha, beta);
        double error = CpuReference.RelativeError(c, reference, M, N, description.RowStrideC);
        Expect(!double.IsNaN(error), "an output element is NaN (not written)");
        Expect(error < threshold, $"relative error {error:E2} is not under {threshold:E0}");
        for (int i = 0; i < M - 1; i++)
        {
            for (int j = N; j < description.RowStrideC; j++)
                Expect(float.IsNaN(c[(long)i * description.RowStrideC + j]), $"padding C[{i}, {j}] was written");
        }
        return $"relative error {error:E2} (threshold {threshold:E0}){extra}";
    }
}
