using Tern.Formats;

namespace Tern.Conversion;

/// <summary>Options that only some inputs use.</summary>
public sealed record ModelSourceOptions
{
    /// <summary>bitllama2.c files: the order of the four 2-bit codes in a byte.</summary>
    public BitOrder BitOrder { get; init; } = BitOrder.MsbFirst;

    /// <summary>llama2.c files: the tokenizer .bin; null looks for tok512.bin or tokenizer.bin beside the model.</summary>
    public string? TokenizerPath { get; init; }
}
