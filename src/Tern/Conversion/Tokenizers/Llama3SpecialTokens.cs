namespace Tern.Conversion.Tokenizers;

/// <summary>
/// The 256 special tokens Meta's Llama 3 tokenizer.py appends after the 128,000 tiktoken ranks (ids 128000 on),
/// in its order: the named ones interleaved with reserved slots, then reserved tokens 5 to 250.
/// (Llama 3.1 renamed some reserved slots; pass its names explicitly or read them from tokenizer_config.json.)
/// </summary>
public static class Llama3SpecialTokens
{
    public const string BeginOfText = "<|begin_of_text|>";
    public const string EndOfText = "<|end_of_text|>";
    public const string StartHeaderId = "<|start_header_id|>";
    public const string EndHeaderId = "<|end_header_id|>";
    public const string EotId = "<|eot_id|>";

    public const int Count = 256;

    public static IReadOnlyList<string> Names { get; } = Build();

    private static string[] Build()
    {
        var names = new List<string>(Count)
        {
            BeginOfText,
            EndOfText,
            Reserved(0),
            Reserved(1),
            Reserved(2),
            Reserved(3),
            StartHeaderId,
            EndHeaderId,
            Reserved(4),
            EotId,
        };
        for (int i = 5; names.Count < Count; i++)
            names.Add(Reserved(i));
        return [.. names];
    }

    private static string Reserved(int i) => $"<|reserved_special_token_{i}|>";
}
