namespace Tern.Training.Model;

/// <summary>Where every parameter of a <see cref="ModelShape"/> lives in one flat arena, in GGUF names and file order.
/// The values, the gradients and both AdamW moments use this one layout.</summary>
public sealed class ParameterLayout
{
    private readonly Dictionary<string, ParameterTensor> _byName = new(StringComparer.Ordinal);

    public ParameterLayout(ModelShape shape)
    {
        shape.Validate();
        Shape = shape;
        var tensors = new List<ParameterTensor>();
        long offset = 0;
        ParameterTensor Add(string name, ParameterKind kind, int rows, int columns)
        {
            var t = new ParameterTensor(name, kind, offset, rows, columns);
            offset += t.Length;
            tensors.Add(t);
            _byName.Add(name, t);
            return t;
        }

        int d = shape.Dim, q = shape.QueryDim, kv = shape.KeyValueDim, f = shape.FfnDim;
        bool sub = shape.Architecture.HasSubNorms();
        TokenEmbedding = Add("token_embd.weight", ParameterKind.Embedding, shape.VocabularySize, d);
        var layers = new List<LayerParameters>();
        for (int l = 0; l < shape.Layers; l++)
        {
            string p = $"blk.{l}.";
            layers.Add(new LayerParameters(
                AttentionNorm: Add(p + "attn_norm.weight", ParameterKind.Norm, 1, d),
                Query: Add(p + "attn_q.weight", ParameterKind.Linear, q, d),
                Key: Add(p + "attn_k.weight", ParameterKind.Linear, kv, d),
                Value: Add(p + "attn_v.weight", ParameterKind.Linear, kv, d),
                AttentionSubNorm: sub ? Add(p + "attn_sub_norm.weight", ParameterKind.Norm, 1, q) : null,
                AttentionOutput: Add(p + "attn_output.weight", ParameterKind.Linear, d, q),
                FfnNorm: Add(p + "ffn_norm.weight", ParameterKind.Norm, 1, d),
                Gate: Add(p + "ffn_gate.weight", ParameterKind.Linear, f, d),
                Up: Add(p + "ffn_up.weight", ParameterKind.Linear, f, d),
                FfnSubNorm: sub ? Add(p + "ffn_sub_norm.weight", ParameterKind.Norm, 1, f) : null,
                Down: Add(p + "ffn_down.weight", ParameterKind.Linear, d, f)));
        }

        Layers = layers;
        OutputNorm = Add("output_norm.weight", ParameterKind.Norm, 1, d);
        Output = shape.TiedEmbedding ? TokenEmbedding : Add("output.weight", ParameterKind.Head, shape.VocabularySize, d);
        Tensors = tensors;
        Count = offset;
    }

    public ModelShape Shape { get; }

    /// <summary>Every tensor once, in file order (a tied head is not repeated).</summary>
    public IReadOnlyList<ParameterTensor> Tensors { get; }

    public ParameterTensor TokenEmbedding { get; }

    public IReadOnlyList<LayerParameters> Layers { get; }

    public ParameterTensor OutputNorm { get; }

    /// <summary>The output head: the token embedding itself when tied.</summary>
    public ParameterTensor Output { get; }

    /// <summary>The number of parameters (floats in each arena).</summary>
    public long Count { get; }

    public ParameterTensor this[string name] =>
        _byName.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"the model has no parameter '{name}'");

    public bool TryGet(string name, out ParameterTensor tensor) => _byName.TryGetValue(name, out tensor!);
}
