namespace Tern.Models;

/// <summary>Which elements of a head RoPE rotates together (llama.cpp's rope types).</summary>
public enum RopeStyle
{
    /// <summary>Adjacent pairs (2i, 2i+1): GGUF "llama" (Meta's layout).</summary>
    Norm,

    /// <summary>Halves (i, i + d/2): "bitnet", "bitnet-b1.58" (Hugging Face's rotate_half).</summary>
    Neox,
}
