using Tern.Conversion;
using Tern.Conversion.Tokenizers;
using Tern.Formats;
using Tern.Gguf;
using Tern.Training.Layers;
using Tern.Training.Model;

namespace Tern.Training.Export;

/// <summary>
/// Trained parameters as a model source for <see cref="ModelConverter"/>: the architecture's hyperparameters, the
/// tokenizer, and every tensor under its GGUF name. A quantized model's projections are handed over as the exact
/// ternary values and scale the trainer's forward pass uses (γ, W̃), so the file holds what was trained, not a
/// re-quantization; the full-precision baseline's projections are float projections.
/// </summary>
public sealed class TrainedModelSource : IModelSource
{
    public TrainedModelSource(ParameterLayout layout, float[] parameters, GgufTokenizerData vocabulary, string? name = null)
    {
        var shape = layout.Shape;
        if (vocabulary.Tokens.Length != shape.VocabularySize)
            throw new ArgumentException($"the vocabulary has {vocabulary.Tokens.Length} tokens; the model was trained for {shape.VocabularySize}");
        string arch = shape.Architecture.GgufName();
        var metadata = new GgufMetadata();
        metadata.Set(GgufKeys.Architecture, arch);
        if (name is not null)
            metadata.Set(GgufKeys.Name, name);
        new LlamaHyperparameters(arch, shape.Context, shape.Dim, shape.Layers, shape.FfnDim, shape.Heads, shape.KeyValueHeads,
            shape.RopeTheta, shape.NormEpsilon, shape.VocabularySize, shape.HeadDim).WriteTo(metadata);
        vocabulary.WriteTo(metadata);
        Metadata = metadata;

        var tensors = new List<SourceTensor>();
        foreach (var tensor in layout.Tensors)
        {
            var values = tensor.Slice(parameters).ToArray();
            tensors.Add(tensor.Kind switch
            {
                ParameterKind.Linear when shape.Quantized => new TernaryMatrixTensor(tensor.Name, Ternarize(tensor, values)),
                ParameterKind.Linear => new MatrixTensor(tensor.Name, new FloatMatrix(tensor.Rows, tensor.Columns, values), TensorRole.FloatProjection),
                ParameterKind.Embedding => new MatrixTensor(tensor.Name, new FloatMatrix(tensor.Rows, tensor.Columns, values), TensorRole.TokenEmbedding),
                ParameterKind.Head => new MatrixTensor(tensor.Name, new FloatMatrix(tensor.Rows, tensor.Columns, values), TensorRole.Output),
                _ => new VectorTensor(tensor.Name, values),
            });
        }

        Tensors = tensors;
        Description = $"Tern-trained {arch} ({shape.Layers} layers, width {shape.Dim}, {(shape.Quantized ? "ternary" : "full precision")})";
    }

    public string Description { get; }

    public GgufMetadata Metadata { get; }

    public IReadOnlyList<SourceTensor> Tensors { get; }

    public IReadOnlyList<string> Notes { get; } = [];

    public void Dispose()
    {
    }

    private static TernaryMatrix Ternarize(ParameterTensor tensor, float[] values)
    {
        var ternary = new float[values.Length];
        float gamma = BitLinear.QuantizeWeights<float>(values, ternary);
        return new TernaryMatrix(tensor.Rows, tensor.Columns, ternary.Select(v => (sbyte)v).ToArray(), gamma);
    }

    private sealed class VectorTensor(string name, float[] values) : SourceTensor(name, [values.Length], TensorRole.Float32)
    {
        public override void ReadRows(long firstRow, int rowCount, Span<float> destination) => values.CopyTo(destination);
    }
}
