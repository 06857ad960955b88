namespace Tern.Training.Model;

/// <summary>The hyperparameters of a model the trainer builds (docs/training.md names them).</summary>
public sealed record ModelShape
{
    public TrainingArchitecture Architecture { get; init; } = TrainingArchitecture.BitNetB158;
    public required int VocabularySize { get; init; }
    public required int Dim { get; init; }
    public required int Layers { get; init; }
    public required int Heads { get; init; }
    public int KvHeads { get; init; }
    public required int FfnDim { get; init; }
    public required int Context { get; init; }
    public float RopeTheta { get; init; } = 10000f;
    public float NormEpsilon { get; init; } = 1e-5f;

    /// <summary>The output head reuses the token embedding (one matrix in training and in the file).</summary>
    public bool TiedEmbedding { get; init; } = true;

    /// <summary>BitLinear quantization on (BitNet b1.58 QAT) or off (the full-precision baseline).</summary>
    public bool Quantized { get; init; } = true;

    public int KeyValueHeads => KvHeads > 0 ? KvHeads : Heads;

    public int HeadDim => Dim / Heads;

    public int QueryDim => Heads * HeadDim;

    public int KeyValueDim => KeyValueHeads * HeadDim;

    /// <summary>Throws with a sentence naming the first shape that does not work.</summary>
    public void Validate()
    {
        Positive(VocabularySize, "vocabulary size");
        Positive(Dim, "width (--dim)");
        Positive(Layers, "layer count (--layers)");
        Positive(Heads, "head count (--heads)");
        Positive(FfnDim, "FFN width (--ffn)");
        Positive(Context, "context (--ctx)");
        if (Dim % Heads != 0)
            throw new ArgumentException($"the width {Dim} does not divide into {Heads} heads");
        if (HeadDim % 2 != 0)
            throw new ArgumentException($"the head size {HeadDim} (width {Dim} / {Heads} heads) must be even for RoPE");
        if (KeyValueHeads <= 0 || Heads % KeyValueHeads != 0)
            throw new ArgumentException($"{Heads} heads are not a multiple of {KeyValueHeads} key/value heads (--kv-heads)");
        if (!(RopeTheta > 0) || !(NormEpsilon > 0))
            throw new ArgumentException("the RoPE base and the norm epsilon must be positive");

        static void Positive(int value, string what)
        {
            if (value <= 0)
                throw new ArgumentException($"the {what} is {value}; it must be positive");
        }
    }
}
