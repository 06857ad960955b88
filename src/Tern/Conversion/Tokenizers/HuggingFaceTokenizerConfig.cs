using System.Text.Json;

namespace Tern.Conversion.Tokenizers;

/// <summary>
/// What a Hugging Face tokenizer_config.json adds to a vocabulary: the chat template, the special tokens by name,
/// and whether BOS/EOS are added, read the way gguf-py's SpecialVocab reads them.
/// </summary>
public sealed record HuggingFaceTokenizerConfig
{
    public string? ChatTemplate { get; init; }
    public string? BosToken { get; init; }
    public string? EosToken { get; init; }
    public string? UnknownToken { get; init; }
    public string? PadToken { get; init; }
    public bool? AddBos { get; init; }
    public bool? AddEos { get; init; }

    /// <summary>added_tokens_decoder, by id: the token text and whether it is special.</summary>
    public IReadOnlyDictionary<int, (string Content, bool Special)> AddedTokens { get; init; } = new Dictionary<int, (string, bool)>();

    public IReadOnlyList<string> Warnings { get; init; } = [];

    public static HuggingFaceTokenizerConfig Read(string path)
    {
        using var doc = JsonFile.Open(path);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: expected a JSON object at the top level, found {root.ValueKind}");

        var warnings = new List<string>();
        return new HuggingFaceTokenizerConfig
        {
            ChatTemplate = ReadChatTemplate(root, path, warnings),
            BosToken = TokenContent(root, "bos_token", path),
            EosToken = TokenContent(root, "eos_token", path),
            UnknownToken = TokenContent(root, "unk_token", path),
            PadToken = TokenContent(root, "pad_token", path),
            AddBos = JsonFile.Bool(root, "add_bos_token"),
            AddEos = JsonFile.Bool(root, "add_eos_token"),
            AddedTokens = ReadAddedTokens(root, path),
            Warnings = warnings,
        };
    }

    /// <summary>
    /// The vocabulary with this configuration's template, flags and special-token ids laid over it. A named
    /// token that the vocabulary does not hold leaves the id as it was and adds a warning.
    /// </summary>
    public GgufTokenizerData ApplyTo(GgufTokenizerData data)
    {
        var warnings = new List<string>(data.Warnings);
        warnings.AddRange(Warnings);
        return data with
        {
            ChatTemplate = ChatTemplate ?? data.ChatTemplate,
            AddBos = AddBos ?? data.AddBos,
            AddEos = AddEos ?? data.AddEos,
            BosId = Resolve(BosToken, "bos_token") ?? data.BosId,
            EosId = Resolve(EosToken, "eos_token") ?? data.EosId,
            UnknownId = Resolve(UnknownToken, "unk_token") ?? data.UnknownId,
            PaddingId = Resolve(PadToken, "pad_token") ?? data.PaddingId,
            Warnings = warnings,
        };

        int? Resolve(string? token, string name)
        {
            if (token is null)
                return null;
            // gguf-py looks the name up among tokenizer.json's added_tokens only; the whole vocabulary gives the
            // same id whenever that lookup succeeds and also covers folders without a tokenizer.json.
            int? id = data.FindToken(token);
            if (id is null)
                warnings.Add($"tokenizer_config.json: {name} \"{token}\" is not in the vocabulary; ignored");
            return id;
        }
    }

    private static string? ReadChatTemplate(JsonElement root, string path, List<string> warnings)
    {
        switch (JsonFile.Property(root, "chat_template"))
        {
            case null:
                return null;
            case { ValueKind: JsonValueKind.String } s:
                return s.GetString();
            case { ValueKind: JsonValueKind.Array } list:
                // Several named templates: tokenizer.chat_template holds the one named "default".
                foreach (var t in list.EnumerateArray())
                {
                    if (JsonFile.String(t, "name") == "default")
                        return JsonFile.String(t, "template") ?? throw new InvalidDataException($"{path}: the \"default\" chat template has no 'template' string");
                }

                warnings.Add($"{path}: chat_template lists {list.GetArrayLength()} named templates but none named \"default\"; none written");
                return null;
            case { } other:
                throw new InvalidDataException($"{path}: chat_template is a {other.ValueKind.ToString().ToLowerInvariant()}, expected a string or a list of named templates");
        }
    }

    private static string? TokenContent(JsonElement root, string name, string path) => JsonFile.Property(root, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } s => s.GetString(),
        { ValueKind: JsonValueKind.Object } o => JsonFile.String(o, "content") ?? throw new InvalidDataException($"{path}: {name} has no 'content' string"),
        { } other => throw new InvalidDataException($"{path}: {name} is a {other.ValueKind.ToString().ToLowerInvariant()}, expected a string or {{\"content\": …}}"),
    };

    private static Dictionary<int, (string, bool)> ReadAddedTokens(JsonElement root, string path)
    {
        var result = new Dictionary<int, (string, bool)>();
        if (JsonFile.Property(root, "added_tokens_decoder") is not { ValueKind: JsonValueKind.Object } decoder)
            return result;
        foreach (var entry in decoder.EnumerateObject())
        {
            if (!int.TryParse(entry.Name, out int id) || id < 0)
                throw new InvalidDataException($"{path}: added_tokens_decoder key \"{entry.Name}\" is not a token id");
            string content = JsonFile.String(entry.Value, "content") ?? throw new InvalidDataException($"{path}: added_tokens_decoder[\"{entry.Name}\"] has no 'content'");
            result[id] = (content, JsonFile.Bool(entry.Value, "special") ?? false);
        }

        return result;
    }
}
