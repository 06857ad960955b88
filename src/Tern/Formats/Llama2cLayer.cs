namespace Tern.Formats;

/// <summary>One transformer block of a float llama2.c model. Matrices are [out, in].</summary>
public sealed record Llama2cLayer(
    float[] RmsAttWeight,
    FloatMatrix Wq,
    FloatMatrix Wk,
    FloatMatrix Wv,
    FloatMatrix Wo,
    float[] RmsFfnWeight,
    FloatMatrix W1,
    FloatMatrix W2,
    FloatMatrix W3);
