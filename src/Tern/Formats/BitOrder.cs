namespace Tern.Formats;

/// <summary>
/// Where element j of each group of four 2-bit codes sits in its byte in a bitllama2.c file.
/// The file does not say, and it cannot be told from the data: every code value is legal in both orders, and
/// reading with the wrong one only permutes weights within each group of four (the same values, the same scale,
/// the same statistics). The caller chooses; bitllama2.c's first exports (bit_model_1M/3M.bin) are MSB-first.
/// </summary>
public enum BitOrder
{
    /// <summary>Element j in bits (7−2j, 6−2j): the first weight in the top two bits.</summary>
    MsbFirst,

    /// <summary>Element j in bits (2j+1, 2j): the first weight in the bottom two bits.</summary>
    LsbFirst,
}
