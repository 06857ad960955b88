using Tern.Training.Randomness;

namespace Tern.Training.Model;

/// <summary>
/// GPT-2's initialization (docs/training.md): matrices and the embedding from N(0, 0.02²), the projections that
/// write into the residual stream (attention output, FFN down) from N(0, (0.02 / √(2L))²), norm weights 1.
/// Each tensor draws from its own stream of the seed, so adding a tensor does not change the others.
/// </summary>
public static class ParameterInitializer
{
    public const double StandardDeviation = 0.02;

    public static void Initialize<T>(ParameterLayout layout, T[] values, ulong seed)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        double residualStd = StandardDeviation / Math.Sqrt(2.0 * layout.Shape.Layers);
        var residualWriters = layout.Layers.SelectMany(l => new[] { l.AttentionOutput.Name, l.Down.Name }).ToHashSet();
        for (int i = 0; i < layout.Tensors.Count; i++)
        {
            var tensor = layout.Tensors[i];
            var span = tensor.Slice(values);
            if (tensor.Kind == ParameterKind.Norm)
            {
                span.Fill(T.One);
                continue;
            }

            double std = residualWriters.Contains(tensor.Name) ? residualStd : StandardDeviation;
            ulong key = CounterHash.Derive(seed, (ulong)i);
            for (int j = 0; j < span.Length; j++)
                span[j] = T.CreateChecked(std * Gaussian(key, (ulong)j));
        }
    }

    /// <summary>A standard normal value by Box–Muller from two uniforms of the counter.</summary>
    private static double Gaussian(ulong key, ulong counter)
    {
        double u1 = 1.0 - CounterHash.Uniform(key, 2 * counter);
        double u2 = CounterHash.Uniform(key, (2 * counter) + 1);
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
