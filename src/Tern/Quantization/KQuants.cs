namespace Tern.Quantization;

/// <summary>
/// The scale searches shared by ggml's k-quant reference encoders, kept in ggml's float evaluation order
/// so that encoded blocks match llama.cpp's.
/// Definition: https://github.com/ggml-org/llama.cpp/blob/master/ggml/src/ggml-quants.c (make_qkx2_quants, make_qx_quants).
/// </summary>
internal static class KQuants
{
    /// <summary>ggml's GROUP_MAX_EPS: below this a group counts as all zero.</summary>
    public const float GroupMaxEps = 1e-15f;

    /// <summary>Asymmetric levels 0..nmax with a scale and a min, searched over nstep+1 candidate scales (weighted error).</summary>
    public static float MakeQkx2Quants(int n, int nmax, ReadOnlySpan<float> x, ReadOnlySpan<float> weights, Span<byte> levels,
        out float theMin, Span<byte> aux, float rmin, float rdelta, int nstep, bool useMad)
    {
        float min = x[0], max = x[0];
        float sumW = weights[0];
        float sumX = sumW * x[0];
        for (int i = 1; i < n; i++)
        {
            if (x[i] < min) min = x[i];
            if (x[i] > max) max = x[i];
            float w = weights[i];
            sumW += w;
            sumX += w * x[i];
        }

        if (min > 0) min = 0;
        if (max == min)
        {
            levels[..n].Clear();
            theMin = -min;
            return 0f;
        }

        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; i++)
        {
            int l = Rounding.NearestInt(iscale * (x[i] - min));
            levels[i] = (byte)Math.Max(0, Math.Min(nmax, l));
            float diff = (scale * levels[i]) + min - x[i];
            diff = useMad ? MathF.Abs(diff) : diff * diff;
            bestError += weights[i] * diff;
        }

        if (nstep < 1)
        {
            theMin = -min;
            return scale;
        }

        for (int step = 0; step <= nstep; step++)
        {
            iscale = (rmin + (rdelta * step) + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXl = 0;
            for (int i = 0; i < n; i++)
            {
                int l = Rounding.NearestInt(iscale * (x[i] - min));
                l = Math.Max(0, Math.Min(nmax, l));
                aux[i] = (byte)l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXl += w * l * x[i];
            }

            float det = (sumW * sumL2) - (sumL * sumL);
            if (det > 0)
            {
                float thisScale = ((sumW * sumXl) - (sumX * sumL)) / det;
                float thisMin = ((sumL2 * sumX) - (sumL * sumXl)) / det;
                if (thisMin > 0)
                {
                    thisMin = 0;
                    thisScale = sumXl / sumL2;
                }

                float curError = 0;
                for (int i = 0; i < n; i++)
                {
                    float diff = (thisScale * aux[i]) + thisMin - x[i];
                    diff = useMad ? MathF.Abs(diff) : diff * diff;
                    curError += weights[i] * diff;
                }

                if (curError < bestError)
                {
                    aux[..n].CopyTo(levels);
                    bestError = curError;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }

        theMin = -min;
        return scale;
    }

    /// <summary>
    /// Symmetric levels −nmax..nmax−1 (stored offset by nmax) with one signed scale; rmseType 1 weighs errors by x²
    /// and tries 18 nearby scales. Only the path ggml's Q6_K reference uses (no importance weights) is kept.
    /// </summary>
    public static float MakeQxQuants(int n, int nmax, ReadOnlySpan<float> x, Span<sbyte> levels)
    {
        float max = 0, amax = 0;
        for (int i = 0; i < n; i++)
        {
            float ax = MathF.Abs(x[i]);
            if (ax > amax)
            {
                amax = ax;
                max = x[i];
            }
        }

        if (amax < GroupMaxEps)
        {
            levels[..n].Clear();
            return 0f;
        }

        float iscale = -nmax / max;
        float sumLx = 0, sumL2 = 0;
        for (int i = 0; i < n; i++)
        {
            int l = Rounding.NearestInt(iscale * x[i]);
            l = Math.Max(-nmax, Math.Min(nmax - 1, l));
            levels[i] = (sbyte)(l + nmax);
            float w = x[i] * x[i];
            sumLx += w * x[i] * l;
            sumL2 += w * l * l;
        }

        float scale = sumL2 != 0 ? sumLx / sumL2 : 0f;
        float best = scale * sumLx;
        for (int step = -9; step <= 9; step++)
        {
            if (step == 0)
                continue;
            iscale = -(nmax + (0.1f * step)) / max;
            sumLx = sumL2 = 0;
            for (int i = 0; i < n; i++)
            {
                int l = Rounding.NearestInt(iscale * x[i]);
                l = Math.Max(-nmax, Math.Min(nmax - 1, l));
                float w = x[i] * x[i];
                sumLx += w * x[i] * l;
                sumL2 += w * l * l;
            }

            if (sumL2 > 0 && sumLx * sumLx > best * sumL2)
            {
                for (int i = 0; i < n; i++)
                {
                    int l = Rounding.NearestInt(iscale * x[i]);
                    levels[i] = (sbyte)(nmax + Math.Max(-nmax, Math.Min(nmax - 1, l)));
                }

                scale = sumLx / sumL2;
                best = scale * sumLx;
            }
        }

        return scale;
    }
}
