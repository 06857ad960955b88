using Tern.Formats;
using Tern.Gguf;

namespace Tern.Conversion.Llama2c;

/// <summary>
/// bitllama2.c's ternary models as GGUF architecture "bitnet". Each BitLinear there normalizes its own input with
/// x / (n·rms(x)) and no parameters (runbit.c, bit_rmsnorm); "bitnet" has a norm before exactly those inputs
/// (attn_norm before q/k/v, attn_sub_norm before o, ffn_norm before gate/up, ffn_sub_norm before down), so the
/// model is written with those norms' weights all 1/n. The q/k rows are reordered from llama2.c's adjacent-pair
/// RoPE to the NEOX RoPE that "bitnet" uses.
/// </summary>
public sealed class BitLlama2cSource : IModelSource
{
    /// <summary>
    /// Tern's key for the epsilon of output_norm where it differs from layer_norm_rms_epsilon. bitllama2.c's norms
    /// before each BitLinear have no epsilon, and the activations they see are tiny (rms ≈ γ/√n), so any epsilon
    /// there ruins the model: the file's layer_norm_rms_epsilon is <see cref="BitLinearNormEpsilon"/>. Only its final
    /// norm uses 1e-5; it sees the residual stream, where an engine that ignores this key changes almost nothing.
    /// </summary>
    public const string OutputNormEpsilonKey = "tern.output_norm_rms_epsilon";

    /// <summary>Zero in effect: ggml asserts eps &gt; 0, and 1e-30 is far below any activation's mean square.</summary>
    public const float BitLinearNormEpsilon = 1e-30f;

    private readonly List<SourceTensor> _tensors = [];

    public BitLlama2cSource(string path, ModelSourceOptions options)
    {
        var model = BitLlama2cModel.Load(path, options.BitOrder);
        var c = model.Config;
        Hyperparameters = new LlamaHyperparameters("bitnet", c.SeqLen, c.Dim, c.NLayers, c.HiddenDim, c.NHeads, c.NKvHeads, 10000f, 1e-5f, c.VocabSize, c.HeadDim) { RmsNormEpsilon = BitLinearNormEpsilon };
        Hyperparameters.Validate(path);

        float[] dimNorm = Enumerable.Repeat(1f / c.Dim, c.Dim).ToArray();
        float[] hiddenNorm = Enumerable.Repeat(1f / c.HiddenDim, c.HiddenDim).ToArray();
        _tensors.Add(new MatrixTensor("token_embd.weight", model.TokenEmbedding, TensorRole.TokenEmbedding));
        for (int l = 0; l < c.NLayers; l++)
        {
            var layer = model.Layers[l];
            string p = $"blk.{l}.";
            _tensors.Add(new ComputedTensor(p + "attn_norm.weight", [c.Dim], dimNorm));
            _tensors.Add(Neox(new TernaryMatrixTensor(p + "attn_q.weight", layer.Wq), c.Dim, c.NHeads));
            _tensors.Add(Neox(new TernaryMatrixTensor(p + "attn_k.weight", layer.Wk), c.KvDim, c.NKvHeads));
            _tensors.Add(new TernaryMatrixTensor(p + "attn_v.weight", layer.Wv));
            _tensors.Add(new ComputedTensor(p + "attn_sub_norm.weight", [c.Dim], dimNorm));
            _tensors.Add(new TernaryMatrixTensor(p + "attn_output.weight", layer.Wo));
            _tensors.Add(new ComputedTensor(p + "ffn_norm.weight", [c.Dim], dimNorm));
            _tensors.Add(new TernaryMatrixTensor(p + "ffn_gate.weight", layer.W1));
            _tensors.Add(new TernaryMatrixTensor(p + "ffn_up.weight", layer.W3));
            _tensors.Add(new ComputedTensor(p + "ffn_sub_norm.weight", [c.HiddenDim], hiddenNorm));
            _tensors.Add(new TernaryMatrixTensor(p + "ffn_down.weight", layer.W2));
        }

        _tensors.Add(new ComputedTensor("output_norm.weight", [c.Dim], model.FinalNorm));

        Metadata = new GgufMetadata();
        Metadata.Set(GgufKeys.Architecture, "bitnet");
        Metadata.Set(GgufKeys.Name, Path.GetFileNameWithoutExtension(path));
        Hyperparameters.WriteTo(Metadata);
        Metadata.Set(OutputNormEpsilonKey, 1e-5f);
        Llama2cTokenizerFile.Load(path, options.TokenizerPath, c.VocabSize).WriteTo(Metadata);
        Description = $"bitllama2.c ternary model ({(options.BitOrder == BitOrder.MsbFirst ? "MSB-first" : "LSB-first")} codes) → GGUF 'bitnet': {c.NLayers} layers, dim {c.Dim}, hidden {c.HiddenDim}, {c.NHeads}/{c.NKvHeads} heads, vocab {c.VocabSize}";
        Notes = ["parameter-free BitLinear norms written as attn_norm/attn_sub_norm/ffn_norm/ffn_sub_norm with weights 1/n and epsilon 1e-30 (output_norm's 1e-5 is in tern.output_norm_rms_epsilon); q/k rows reordered for NEOX RoPE"];
    }

    private static RowPermutedTensor Neox(SourceTensor t, int rows, int heads) =>
        new(t, row => QkPermutation.SourceRowForNeox(row, rows, heads));

    public LlamaHyperparameters Hyperparameters { get; }

    public string Description { get; }

    public GgufMetadata Metadata { get; }

    public IReadOnlyList<SourceTensor> Tensors => _tensors;

    public IReadOnlyList<string> Notes { get; }

    public void Dispose()
    {
    }
}
