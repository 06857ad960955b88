namespace Tern.Gguf;

/// <summary>Which writer's meaning applies to the GGML type ids 36–39 in a file.</summary>
public enum GgmlTypeDialect
{
    /// <summary>bitnet.cpp's fork: 36 = I2_S, 37 = I8_S, 38 = TL1, 39 = TL2.</summary>
    BitNetCpp,

    /// <summary>ggml-org/llama.cpp: 36–38 = IQ4_NL_4_4/4_8/8_8 (removed), 39 = MXFP4.</summary>
    Upstream,
}
