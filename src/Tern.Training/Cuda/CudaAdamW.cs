using Tern.Cuda;

namespace Tern.Training.Cuda;

/// <summary>
/// AdamW for a <see cref="CudaTrainingModel"/>, as Optimization.AdamW&lt;float&gt; computes it, with both moments on
/// the device in the parameters' layout: one kernel over the whole arena, which also applies the clip factor of the
/// model's last <see cref="CudaTrainingModel.ClipGradients"/>.
/// </summary>
public sealed class CudaAdamW : IDisposable
{
    private readonly CudaTrainingModel _model;

    public CudaAdamW(CudaTrainingModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        FirstMoment = new DeviceBuffer<float>(model.Context, model.Layout.Count);
        try
        {
            SecondMoment = new DeviceBuffer<float>(model.Context, model.Layout.Count);
        }
        catch
        {
            FirstMoment.Dispose();
            throw;
        }

        FirstMoment.Zero();
        SecondMoment.Zero();
    }

    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.95;
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>Updates taken so far (the bias correction's t).</summary>
    public long Step { get; set; }

    public DeviceBuffer<float> FirstMoment { get; }

    public DeviceBuffer<float> SecondMoment { get; }

    /// <summary>One step on the model's parameters from its gradients (clipped by the model's clip factor).</summary>
    public void Update(double learningRate, double weightDecay)
    {
        Step++;
        double correction1 = 1 - Math.Pow(Beta1, Step), correction2 = 1 - Math.Pow(Beta2, Step);
        var chunks = _model.Chunks;
        _model.Mark("adamw");
        var arguments = new KernelArguments();
        arguments.Add(_model.Parameters.Pointer);
        arguments.Add(_model.Gradients.Pointer);
        arguments.Add(FirstMoment.Pointer);
        arguments.Add(SecondMoment.Pointer);
        arguments.Add(chunks.Offsets.Pointer);
        arguments.Add(chunks.Lengths.Pointer);
        arguments.Add(chunks.Tensors.Pointer);
        arguments.Add(chunks.TensorKinds.Pointer);
        arguments.Add(_model.ClipFactor.Pointer);
        arguments.Add((float)Beta1);
        arguments.Add((float)Beta2);
        arguments.Add((float)Epsilon);
        arguments.Add((float)(learningRate / correction1));
        arguments.Add((float)Math.Sqrt(correction2));
        arguments.Add((float)(1 - (learningRate * weightDecay)));
        _model.Kernels.AdamW.Launch(chunks.Count, 256, 0, null, ref arguments);
    }

    public void Dispose()
    {
        FirstMoment.Dispose();
        SecondMoment.Dispose();
    }
}
