using System.Globalization;
using Tern.Formats;
using Tern.Training.Model;

namespace Tern.Training.Runs;

/// <summary>
/// A resumable state: the parameters, both AdamW moments, the step and the batch sampler's state, as one
/// safetensors file (tensors under GGUF names, moments prefixed "adam.m." and "adam.v."), written to a temporary
/// name and renamed, so a failed write (a full disk) leaves the previous checkpoint intact. The run's dropout
/// probabilities go into the metadata too, so that a resumed run can be held to them.
/// </summary>
public sealed record TrainingCheckpoint(int Step, ulong SamplerState, float[] Parameters, float[] FirstMoment, float[] SecondMoment)
{
    private const string StepKey = "tern.step", SamplerKey = "tern.sampler_state", CountKey = "tern.parameter_count";
    private const string DropoutKey = "tern.dropout", AttentionDropoutKey = "tern.attention_dropout";

    /// <summary>--dropout of the run that wrote it; null in checkpoints written before it was recorded.</summary>
    public double? Dropout { get; init; }

    /// <summary>--attention-dropout of the run that wrote it; null in checkpoints written before it was recorded (and
    /// before the option existed, so those runs had none).</summary>
    public double? AttentionDropout { get; init; }

    public void Save(string path, ParameterLayout layout)
    {
        var writer = new SafetensorsWriter();
        writer.Metadata[StepKey] = Step.ToString(CultureInfo.InvariantCulture);
        writer.Metadata[SamplerKey] = SamplerState.ToString(CultureInfo.InvariantCulture);
        writer.Metadata[CountKey] = layout.Count.ToString(CultureInfo.InvariantCulture);
        if (Dropout is { } dropout)
            writer.Metadata[DropoutKey] = dropout.ToString("R", CultureInfo.InvariantCulture);
        if (AttentionDropout is { } attentionDropout)
            writer.Metadata[AttentionDropoutKey] = attentionDropout.ToString("R", CultureInfo.InvariantCulture);
        foreach (var (prefix, arena) in new[] { ("", Parameters), ("adam.m.", FirstMoment), ("adam.v.", SecondMoment) })
        {
            foreach (var t in layout.Tensors)
                writer.Add(prefix + t.Name, t.Slice(arena).ToArray(), [t.Rows, t.Columns]);
        }

        writer.Write(path);
    }

    public static TrainingCheckpoint Load(string path, ParameterLayout layout)
    {
        using var file = SafetensorsFile.Open(path);
        string Meta(string key) => file.Metadata.TryGetValue(key, out var v) ? v : throw new InvalidDataException($"{path}: not a Tern training checkpoint (no '{key}')");
        long count = long.Parse(Meta(CountKey), CultureInfo.InvariantCulture);
        if (count != layout.Count)
            throw new InvalidDataException($"{path}: the checkpoint holds {count} parameters; this model has {layout.Count} (were the shape flags changed?)");
        var arenas = new float[3][];
        string[] prefixes = ["", "adam.m.", "adam.v."];
        for (int a = 0; a < 3; a++)
        {
            arenas[a] = new float[layout.Count];
            foreach (var t in layout.Tensors)
            {
                if (!file.TryGetTensor(prefixes[a] + t.Name, out var info))
                    throw new InvalidDataException($"{path}: tensor '{prefixes[a] + t.Name}' is missing");
                if (info.Shape.Aggregate(1L, (x, y) => x * y) != t.Length)
                    throw new InvalidDataException($"{path}: tensor '{prefixes[a] + t.Name}' has shape [{string.Join(", ", info.Shape)}]; the model needs [{t.Rows}, {t.Columns}]");
                new SafetensorsTensor(file, info).ReadAllAsFloat().CopyTo(t.Slice(arenas[a]));
            }
        }

        double? Probability(string key) => file.Metadata.TryGetValue(key, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : null;
        return new TrainingCheckpoint(
            int.Parse(Meta(StepKey), CultureInfo.InvariantCulture),
            ulong.Parse(Meta(SamplerKey), CultureInfo.InvariantCulture),
            arenas[0], arenas[1], arenas[2])
        {
            Dropout = Probability(DropoutKey),
            AttentionDropout = Probability(AttentionDropoutKey),
        };
    }
}
