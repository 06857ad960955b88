using System.Numerics;
using Tern.Runtime;
using Tern.Training.Layers;
using Tern.Training.Model;

namespace Tern.Training.Optimization;

/// <summary>
/// AdamW as torch.optim.AdamW computes it (decoupled decay w ← w − lr·λ·w before the Adam update, bias-corrected
/// moments), with the moments in the parameters' layout; norm weights never decay.
/// </summary>
public sealed class AdamW<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ParameterLayout _layout;

    public AdamW(ParameterLayout layout)
    {
        _layout = layout;
        FirstMoment = new T[layout.Count];
        SecondMoment = new T[layout.Count];
    }

    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.95;
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>Updates taken so far (the bias correction's t).</summary>
    public long Step { get; set; }

    public T[] FirstMoment { get; }

    public T[] SecondMoment { get; }

    public void Update(WorkerPool? pool, T[] parameters, T[] gradients, double learningRate, double weightDecay)
    {
        Step++;
        double correction1 = 1 - Math.Pow(Beta1, Step), correction2 = 1 - Math.Pow(Beta2, Step);
        T b1 = T.CreateChecked(Beta1), b2 = T.CreateChecked(Beta2), eps = T.CreateChecked(Epsilon);
        T stepSize = T.CreateChecked(learningRate / correction1);
        T sqrtCorrection2 = T.CreateChecked(Math.Sqrt(correction2));
        foreach (var tensor in _layout.Tensors)
        {
            T decay = T.CreateChecked(tensor.Decays ? 1 - (learningRate * weightDecay) : 1);
            int offset = (int)tensor.Offset;
            ParallelRanges.For(pool, (int)tensor.Length, (start, end) =>
            {
                for (int i = offset + start; i < offset + end; i++)
                {
                    T g = gradients[i];
                    T m = FirstMoment[i] = (b1 * FirstMoment[i]) + ((T.One - b1) * g);
                    T v = SecondMoment[i] = (b2 * SecondMoment[i]) + ((T.One - b2) * g * g);
                    parameters[i] = (parameters[i] * decay) - (stepSize * m / ((T.Sqrt(v) / sqrtCorrection2) + eps));
                }
            });
        }
    }
}
