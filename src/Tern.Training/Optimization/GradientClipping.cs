using System.Numerics;

namespace Tern.Training.Optimization;

/// <summary>Clips the gradients to a global L2 norm: g ← g · min(1, max / ‖g‖) (torch's clip_grad_norm_ adds 1e-6 to
/// the norm; llm.c and the twin do not).</summary>
public static class GradientClipping
{
    /// <summary>Returns the norm before clipping (summed in double, in order).</summary>
    public static double ClipToNorm<T>(T[] gradients, double maxNorm)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double sum = 0;
        foreach (T g in gradients)
        {
            double v = double.CreateChecked(g);
            sum += v * v;
        }

        double norm = Math.Sqrt(sum);
        if (maxNorm > 0 && norm > maxNorm)
        {
            T factor = T.CreateChecked(maxNorm / norm);
            for (int i = 0; i < gradients.Length; i++)
                gradients[i] *= factor;
        }

        return norm;
    }
}
