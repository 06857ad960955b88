using Tern.Gguf;
using Tern.Quantization;

namespace Tern.Models;

/// <summary>
/// All weights of a model, checked against its config: every tensor present with the shape the config implies,
/// or an error naming the tensor. F16, BF16, Q8_0 and Q6_K tensors are
/// computed in place from the map, other float tensors are decoded once; ternary ones keep their values and scales.
/// </summary>
public sealed class ModelWeights
{
    private ModelWeights(WeightMatrix embedding, IReadOnlyList<LayerWeights> layers, float[] outputNorm, WeightMatrix output, float[]? ropeFactors)
    {
        TokenEmbedding = embedding;
        Layers = layers;
        OutputNorm = outputNorm;
        Output = output;
        RopeFactors = ropeFactors;
    }

    public WeightMatrix TokenEmbedding { get; }

    public IReadOnlyList<LayerWeights> Layers { get; }

    public float[] OutputNorm { get; }

    /// <summary>output.weight, or the token embedding when the head is tied.</summary>
    public WeightMatrix Output { get; }

    /// <summary>Every matrix of the model, the head once even when it is the embedding.</summary>
    public IEnumerable<WeightMatrix> Matrices =>
        Layers.SelectMany(l => new[] { l.Query, l.Key, l.Value, l.Output, l.Gate, l.Up, l.Down })
            .Append(Output).Append(TokenEmbedding).Distinct();

    /// <summary>
    /// The same weights with other matrices for some blocks or the head (a device's stand-ins for tensors it computes
    /// for the host); the embedding, norms and RoPE factors stay.
    /// </summary>
    public ModelWeights With(IReadOnlyList<LayerWeights> layers, WeightMatrix output)
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(output);
        if (layers.Count != Layers.Count)
            throw new ArgumentException($"{layers.Count} blocks given for a model of {Layers.Count}", nameof(layers));
        return new ModelWeights(TokenEmbedding, layers, OutputNorm, output, RopeFactors);
    }

    /// <summary>rope_freqs.weight (llama3 RoPE scaling): per-frequency divisors, or null.</summary>
    public float[]? RopeFactors { get; }

    /// <param name="headType">The type to requantize the output head to at load (null: as stored). A tied head is
    /// requantized as a separate matrix; the embedding lookup keeps reading the stored tensor.</param>
    public static ModelWeights Load(GgufFile file, ModelConfig c, GgmlType? headType = null)
    {
        var embedding = Matrix(file, "token_embd.weight", c.VocabSize, c.EmbeddingLength);
        if (embedding is TernaryWeightMatrix)
            throw new NotSupportedException($"{file.Path}: token_embd.weight is {file.GetTensor("token_embd.weight").TypeInfo.Name}; a ternary embedding is not supported");

        bool subNorms = file.TryGetTensor("blk.0.attn_sub_norm.weight", out _);
        var layers = new LayerWeights[c.BlockCount];
        for (int l = 0; l < c.BlockCount; l++)
        {
            string p = $"blk.{l}.";
            layers[l] = new LayerWeights(
                Vector(file, p + "attn_norm.weight", c.EmbeddingLength),
                Matrix(file, p + "attn_q.weight", c.QueryLength, c.EmbeddingLength),
                Matrix(file, p + "attn_k.weight", c.KeyValueLength, c.EmbeddingLength),
                Matrix(file, p + "attn_v.weight", c.KeyValueLength, c.EmbeddingLength),
                Matrix(file, p + "attn_output.weight", c.EmbeddingLength, c.QueryLength),
                subNorms ? Vector(file, p + "attn_sub_norm.weight", c.QueryLength) : null,
                Vector(file, p + "ffn_norm.weight", c.EmbeddingLength),
                Matrix(file, p + "ffn_gate.weight", c.FeedForwardLength, c.EmbeddingLength),
                Matrix(file, p + "ffn_up.weight", c.FeedForwardLength, c.EmbeddingLength),
                Matrix(file, p + "ffn_down.weight", c.EmbeddingLength, c.FeedForwardLength),
                subNorms ? Vector(file, p + "ffn_sub_norm.weight", c.FeedForwardLength) : null);
        }

        // bitnet.cpp and llama.cpp always use token_embd as the head of the BitNet families, even if output.weight exists.
        bool bitnet = c.Architecture.StartsWith("bitnet", StringComparison.Ordinal);
        bool untied = !bitnet && file.TryGetTensor("output.weight", out _);
        var output = untied ? Matrix(file, "output.weight", c.VocabSize, c.EmbeddingLength) : embedding;
        var storedHead = file.GetTensor(untied ? "output.weight" : "token_embd.weight");
        if (headType is { } type && type != storedHead.Type)
            output = HeadRequantizer.Requantize(output, type, file, storedHead);
        float[]? ropeFactors = file.TryGetTensor("rope_freqs.weight", out _) ? Vector(file, "rope_freqs.weight", c.HeadDim / 2) : null;
        return new ModelWeights(embedding, layers, Vector(file, "output_norm.weight", c.EmbeddingLength), output, ropeFactors);
    }

    private static GgufTensorInfo Require(GgufFile file, string name) =>
        file.TryGetTensor(name, out var t) ? t : throw new InvalidDataException($"{file.Path}: tensor '{name}' is missing");

    private static WeightMatrix Matrix(GgufFile file, string name, int rows, int columns)
    {
        var t = Require(file, name);
        if (t.Shape.Length != 2 || t.Shape[0] != columns || t.Shape[1] != rows)
            throw new InvalidDataException($"{file.Path}: tensor '{name}' has shape [{string.Join(", ", t.Shape)}]; the metadata implies [{columns}, {rows}]");
        return WeightMatrix.Load(file, t);
    }

    private static float[] Vector(GgufFile file, string name, int length)
    {
        var t = Require(file, name);
        if (t.Shape.Length != 1 || t.Shape[0] != length)
            throw new InvalidDataException($"{file.Path}: tensor '{name}' has shape [{string.Join(", ", t.Shape)}]; the metadata implies [{length}]");
        if (!TensorCodec.CanDecode(t.Type) || TernaryCodec.IsTernary(t.Type))
            throw new NotSupportedException($"{file.Path}: tensor '{name}' is {t.TypeInfo.Name}; a vector must be a float type");
        var values = new float[length];
        TensorCodec.Decode(t.Type, file.GetTensorData(t), values);
        return values;
    }
}
