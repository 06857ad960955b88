using Tern.Formats;
using Tern.Gguf;

namespace Tern.Conversion.Llama2c;

/// <summary>
/// Karpathy's llama2.c float format (stories260K) as GGUF architecture "llama". llama2.c keeps Meta's
/// adjacent-pair RoPE layout, which is GGUF llama's, so no rows are reordered. The projections were not trained
/// for ternary weights: they stay floats for --type f32/f16/bf16 and are ternarized post-training otherwise.
/// </summary>
public sealed class Llama2cSource : IModelSource
{
    private readonly List<SourceTensor> _tensors = [];

    public Llama2cSource(string path, ModelSourceOptions options)
    {
        var model = Llama2cModel.Load(path);
        var c = model.Config;
        Hyperparameters = new LlamaHyperparameters("llama", c.SeqLen, c.Dim, c.NLayers, c.HiddenDim, c.NHeads, c.NKvHeads, 10000f, 1e-5f, c.VocabSize, c.HeadDim);
        Hyperparameters.Validate(path);

        _tensors.Add(new MatrixTensor("token_embd.weight", model.TokenEmbedding, TensorRole.TokenEmbedding));
        for (int l = 0; l < c.NLayers; l++)
        {
            var layer = model.Layers[l];
            string p = $"blk.{l}.";
            _tensors.Add(new ComputedTensor(p + "attn_norm.weight", [c.Dim], layer.RmsAttWeight));
            _tensors.Add(new MatrixTensor(p + "attn_q.weight", layer.Wq, TensorRole.FloatProjection));
            _tensors.Add(new MatrixTensor(p + "attn_k.weight", layer.Wk, TensorRole.FloatProjection));
            _tensors.Add(new MatrixTensor(p + "attn_v.weight", layer.Wv, TensorRole.FloatProjection));
            _tensors.Add(new MatrixTensor(p + "attn_output.weight", layer.Wo, TensorRole.FloatProjection));
            _tensors.Add(new ComputedTensor(p + "ffn_norm.weight", [c.Dim], layer.RmsFfnWeight));
            _tensors.Add(new MatrixTensor(p + "ffn_gate.weight", layer.W1, TensorRole.FloatProjection));
            _tensors.Add(new MatrixTensor(p + "ffn_down.weight", layer.W2, TensorRole.FloatProjection));
            _tensors.Add(new MatrixTensor(p + "ffn_up.weight", layer.W3, TensorRole.FloatProjection));
        }

        _tensors.Add(new ComputedTensor("output_norm.weight", [c.Dim], model.RmsFinalWeight));
        if (!c.SharedClassifier)
            _tensors.Add(new MatrixTensor("output.weight", model.Classifier, TensorRole.Output));

        Metadata = new GgufMetadata();
        Metadata.Set(GgufKeys.Architecture, "llama");
        Metadata.Set(GgufKeys.Name, Path.GetFileNameWithoutExtension(path));
        Hyperparameters.WriteTo(Metadata);
        Llama2cTokenizerFile.Load(path, options.TokenizerPath, c.VocabSize).WriteTo(Metadata);
        Description = $"llama2.c float model → GGUF 'llama': {c.NLayers} layers, dim {c.Dim}, hidden {c.HiddenDim}, {c.NHeads}/{c.NKvHeads} heads, vocab {c.VocabSize}";
    }

    public LlamaHyperparameters Hyperparameters { get; }

    public string Description { get; }

    public GgufMetadata Metadata { get; }

    public IReadOnlyList<SourceTensor> Tensors => _tensors;

    public IReadOnlyList<string> Notes { get; } = [];

    public void Dispose()
    {
    }
}
