using Tern.Formats;

namespace Tern.Conversion.HuggingFace;

/// <summary>
/// The Hugging Face model classes `tern convert` reads and the GGUF architecture each becomes:
/// <list type="bullet">
/// <item>BitNetForCausalLM (microsoft/bitnet-b1.58-2B-4T): "bitnet-b1.58", bitnet.cpp's name: relu² FFN,
/// attn_sub_norm/ffn_sub_norm, no q/k permutation (NEOX RoPE).</item>
/// <item>BitnetForCausalLM (1bitLLM/bitnet_b1_58-*): "bitnet", llama.cpp's name: SiLU, sub-norms named inner_attn_ln and
/// ffn_layernorm, no permutation.</item>
/// <item>LlamaForCausalLM with a BitNet quantization_config (HF1BitLLM/Llama3-8B-1.58, tiiuae/Falcon3-*-1.58bit): "llama",
/// q/k rows permuted for NORM RoPE, untied output.</item>
/// </list>
/// </summary>
internal sealed record HfArchitecture(
    string HfClass,
    string GgufArchitecture,
    string Activation,
    bool HasSubNorms,
    bool PermuteQk)
{
    public static readonly HfArchitecture BitNet2B = new("BitNetForCausalLM", "bitnet-b1.58", "relu2", true, false);
    public static readonly HfArchitecture OneBitLlm = new("BitnetForCausalLM", "bitnet", "silu", true, false);
    public static readonly HfArchitecture Llama = new("LlamaForCausalLM", "llama", "silu", false, true);

    /// <summary>Names of the norm before o_proj: 2B-4T's, then 1bitLLM's (both seen in bitnet.cpp's tensor map).</summary>
    public static readonly string[] AttentionSubNormNames = ["self_attn.attn_sub_norm", "self_attn.inner_attn_ln"];

    /// <summary>Names of the norm before down_proj.</summary>
    public static readonly string[] FfnSubNormNames = ["mlp.ffn_sub_norm", "mlp.ffn_layernorm"];

    public static HfArchitecture For(HfModelConfig config)
    {
        var arch = config.Architecture switch
        {
            "BitNetForCausalLM" => BitNet2B,
            "BitnetForCausalLM" => OneBitLlm,
            "LlamaForCausalLM" => Llama,
            _ => throw new NotSupportedException($"{config.Path}: architecture '{config.Architecture}' is not supported; tern convert reads BitNetForCausalLM, BitnetForCausalLM and LlamaForCausalLM"),
        };

        string act = config.HiddenAct ?? arch.Activation;
        if (!string.Equals(act, arch.Activation, StringComparison.OrdinalIgnoreCase))
            throw new NotSupportedException($"{config.Path}: hidden_act '{act}' is not supported for {arch.HfClass} (GGUF architecture '{arch.GgufArchitecture}' uses {arch.Activation})");
        return arch;
    }
}
