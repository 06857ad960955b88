namespace Tern.Conversion;

/// <summary>What a tensor is for; the converter chooses its stored type from this.</summary>
public enum TensorRole
{
    /// <summary>A BitLinear projection (attention q/k/v/o, FFN gate/up/down): stored in the ternary type asked for.</summary>
    TernaryWeight,

    /// <summary>
    /// A projection of a model that was not trained for ternary weights (llama2.c float models, a plain Llama): kept
    /// in floats when --type is a float type, ternarized post-training with absmean when it is a ternary type.
    /// </summary>
    FloatProjection,

    /// <summary>token_embd.weight: kept in floats (or Q8_0…) chosen by --token-embedding-type.</summary>
    TokenEmbedding,

    /// <summary>output.weight (an untied head): chosen by --output-tensor-type.</summary>
    Output,

    /// <summary>Norm weights, biases and other small vectors: always F32.</summary>
    Float32,
}
