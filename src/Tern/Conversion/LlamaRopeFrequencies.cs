using Tern.Formats;

namespace Tern.Conversion;

/// <summary>
/// Llama 3.1-style RoPE scaling becomes a rope_freqs tensor of per-frequency divisors, as llama.cpp's converter
/// writes it (convert_hf_to_gguf.py, LlamaModel.generate_extra_tensors): short wavelengths keep their frequency,
/// long ones are divided by the factor, and the band between is interpolated.
/// </summary>
public static class LlamaRopeFrequencies
{
    public static float[] Compute(HfRopeScaling scaling, double ropeTheta, int headDim)
    {
        double factor = scaling.Factor ?? 8.0;
        double low = scaling.LowFreqFactor ?? 1.0;
        double high = scaling.HighFreqFactor ?? 4.0;
        double oldContext = scaling.OriginalMaxPositionEmbeddings ?? 8192;
        double lowWavelength = oldContext / low, highWavelength = oldContext / high;

        var result = new float[headDim / 2];
        for (int i = 0; i < result.Length; i++)
        {
            double freq = 1.0 / Math.Pow(ropeTheta, 2.0 * i / headDim);
            double wavelength = 2 * Math.PI / freq;
            if (wavelength < highWavelength)
            {
                result[i] = 1f;
            }
            else if (wavelength > lowWavelength)
            {
                result[i] = (float)factor;
            }
            else
            {
                double smooth = ((oldContext / wavelength) - low) / (high - low);
                result[i] = (float)(1.0 / (((1 - smooth) / factor) + smooth));
            }
        }

        return result;
    }
}
