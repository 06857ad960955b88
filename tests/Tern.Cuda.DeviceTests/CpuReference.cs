namespace Tern.Cuda.DeviceTests;

/// <summary>What the GPU results are compared with: float64 arithmetic on the CPU, and the error measure.</summary>
internal static class CpuReference
{
    public static float[] RandomUniform(Random random, long count)
    {
        var values = new float[count];
        for (long i = 0; i < count; i++)
            values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }

    /// <summary>C = α·op(A)·op(B) + β·C0 in float64, row-major as <see cref="GemmDescription"/> defines it (M×N, packed).</summary>
    public static double[] Gemm(GemmDescription gemm, float[] a, float[] b, float[]? c0, float alpha, float beta)
    {
        var c = new double[(long)gemm.M * gemm.N];
        for (int i = 0; i < gemm.M; i++)
        {
            for (int j = 0; j < gemm.N; j++)
            {
                double sum = 0;
                for (int p = 0; p < gemm.K; p++)
                {
                    double x = gemm.TransposeA ? a[(long)p * gemm.RowStrideA + i] : a[(long)i * gemm.RowStrideA + p];
                    double y = gemm.TransposeB ? b[(long)j * gemm.RowStrideB + p] : b[(long)p * gemm.RowStrideB + j];
                    sum += x * y;
                }
                double previous = c0 is null ? 0 : c0[(long)i * gemm.RowStrideC + j];
                c[(long)i * gemm.N + j] = alpha * sum + beta * previous;
            }
        }
        return c;
    }

    /// <summary>‖out − ref‖₂ / ‖ref‖₂ over the M×N elements of a C with row stride <paramref name="rowStride"/>; NaN if any is NaN.</summary>
    public static double RelativeError(float[] output, double[] reference, int rows, int columns, int rowStride)
    {
        double difference = 0, norm = 0;
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < columns; j++)
            {
                double expected = reference[(long)i * columns + j];
                double actual = output[(long)i * rowStride + j];
                if (double.IsNaN(actual))
                    return double.NaN;
                difference += (actual - expected) * (actual - expected);
                norm += expected * expected;
            }
        }
        return Math.Sqrt(difference / norm);
    }

    public static double Median(List<float> values)
    {
        values.Sort();
        int middle = values.Count / 2;
        return values.Count % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2.0;
    }
}
