using System.Numerics;
using Tern.Runtime;

namespace Tern.Training.Layers;

/// <summary>
/// The output head and the loss in one pass over blocks of rows, so the [rows, V] logits never exist whole:
/// logits = x · Wᵀ, loss = mean −log softmax(logits)[target], and when asked dlogits = (softmax − onehot) / rows,
/// dx = dlogits · W (written) and dW += dlogitsᵀ · x. Blocks run in order, so sums do not depend on threads.
/// </summary>
public sealed class SoftmaxCrossEntropy<T>(int vocabulary, int width, int blockRows = 64)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] _logits = new T[blockRows * vocabulary];

    /// <summary>Returns the mean loss over <paramref name="rows"/>.</summary>
    public double Run(WorkerPool? pool, T[] x, int rows, int[] targets, T[] weights, int weightOffset, T[]? dx, T[]? weightGradient, int gradientOffset)
    {
        double total = 0;
        for (int r0 = 0; r0 < rows; r0 += blockRows)
        {
            int n = Math.Min(blockRows, rows - r0);
            Gemm.Multiply(pool, n, vocabulary, width, new MatrixOperand<T>(x, r0 * width, width), new MatrixOperand<T>(weights, weightOffset, width, Transposed: true), _logits, 0, vocabulary, accumulate: false);
            var losses = new double[n];
            int first = r0;
            ParallelRanges.For(pool, n, (start, end) =>
            {
                for (int i = start; i < end; i++)
                {
                    var row = _logits.AsSpan(i * vocabulary, vocabulary);
                    int target = targets[first + i];
                    T max = T.NegativeInfinity;
                    foreach (T v in row)
                        max = T.Max(max, v);
                    T sum = T.Zero;
                    foreach (T v in row)
                        sum += T.Exp(v - max);
                    T logSum = T.Log(sum) + max;
                    losses[i] = double.CreateChecked(logSum - row[target]);
                    if (dx is null)
                        continue;
                    T inverseRows = T.One / T.CreateChecked(rows);
                    for (int j = 0; j < vocabulary; j++)
                        row[j] = T.Exp(row[j] - logSum) * inverseRows;
                    row[target] -= inverseRows;
                }
            });
            foreach (double loss in losses)
                total += loss;
            if (dx is null)
                continue;
            Gemm.Multiply(pool, n, width, vocabulary, new MatrixOperand<T>(_logits, 0, vocabulary), new MatrixOperand<T>(weights, weightOffset, width), dx, r0 * width, width, accumulate: false);
            Gemm.Multiply(pool, vocabulary, width, n, new MatrixOperand<T>(_logits, 0, vocabulary, Transposed: true), new MatrixOperand<T>(x, r0 * width, width), weightGradient!, gradientOffset, width, accumulate: true);
        }

        return total / rows;
    }

    /// <summary>The logits of every row (for tests and for comparison with the engine).</summary>
    public void Logits(WorkerPool? pool, T[] x, int rows, T[] weights, int weightOffset, T[] logits) =>
        Gemm.Multiply(pool, rows, vocabulary, width, new MatrixOperand<T>(x, 0, width), new MatrixOperand<T>(weights, weightOffset, width, Transposed: true), logits, 0, vocabulary, accumulate: false);
}
