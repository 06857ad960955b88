using System.Text.Json;

namespace Tern.Conversion.Tokenizers;

/// <summary>
/// Reads a Hugging Face tokenizer.json of BPE type with a byte-level pre-tokenizer (GPT-2, Llama 3) into
/// llama.cpp's "gpt2" vocabulary as convert_hf_to_gguf.py's get_vocab_base and gguf-py's SpecialVocab do:
/// tokens by id with gaps filled by "[PAD{id}]" (UNUSED), added special tokens (and ones that look special,
/// "&lt;|…|&gt;") CONTROL, other added tokens USER_DEFINED, the rest NORMAL; merges as "a b".
/// </summary>
/// <remarks>
/// llama.cpp names the pre-tokenizer by hashing how the tokenizer splits a fixed text; without a BPE engine here
/// it is recognized by the split regex instead, which is exact for the families listed in <see cref="KnownPre"/>.
/// Anything else becomes "default" with a warning, which makes llama.cpp split like GPT-2.
/// </remarks>
public static class HuggingFaceTokenizerJsonReader
{
    /// <summary>Llama 3's split pattern (also tiktoken's cl100k_base, hence the vocabulary size check).</summary>
    public const string Llama3Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Number of byte-level BPE tokens before Llama 3's 256 special tokens.</summary>
    public const int Llama3BaseVocabSize = 128000;

    public static GgufTokenizerData Read(string path)
    {
        using var doc = JsonFile.Open(path);
        return Read(doc.RootElement, path);
    }

    private static GgufTokenizerData Read(JsonElement root, string path)
    {
        var model = JsonFile.Require(root, "model", JsonValueKind.Object, path, "");
        string? type = JsonFile.String(model, "type");
        if (type != "BPE")
            throw new InvalidDataException($"{path}: tokenizer model type '{type ?? "(none)"}' is not supported; only BPE converts to GGUF here");
        if (!UsesByteLevel(root))
        {
            string what = JsonFile.Bool(model, "byte_fallback") == true
                ? "a SentencePiece-style BPE (byte_fallback, no ByteLevel pre-tokenizer); convert its tokenizer.model instead"
                : "a BPE without a ByteLevel pre-tokenizer";
            throw new InvalidDataException($"{path}: {what}, which is not supported");
        }

        var vocab = JsonFile.Require(model, "vocab", JsonValueKind.Object, path, "model.");
        var byId = new Dictionary<int, string>();
        int baseCount = 0;
        foreach (var entry in vocab.EnumerateObject())
        {
            int id = entry.Value.ValueKind == JsonValueKind.Number && entry.Value.TryGetInt32(out int v) && v >= 0
                ? v
                : throw new InvalidDataException($"{path}: model.vocab[\"{entry.Name}\"] is not a non-negative integer id");
            if (!byId.TryAdd(id, entry.Name))
                throw new InvalidDataException($"{path}: id {id} is given to both \"{byId[id]}\" and \"{entry.Name}\"");
            baseCount++;
        }

        // Added tokens replace vocabulary entries of the same id (that is what AutoTokenizer's vocab shows).
        var added = new Dictionary<int, (string Content, bool Special)>();
        if (JsonFile.Property(root, "added_tokens") is { ValueKind: JsonValueKind.Array } addedArray)
        {
            int index = 0;
            foreach (var t in addedArray.EnumerateArray())
            {
                string where = $"added_tokens[{index++}]";
                int id = JsonFile.Property(t, "id") is { ValueKind: JsonValueKind.Number } idEl && idEl.TryGetInt32(out int v) && v >= 0
                    ? v
                    : throw new InvalidDataException($"{path}: {where}.id is missing or not a non-negative integer");
                string content = JsonFile.String(t, "content") ?? throw new InvalidDataException($"{path}: {where}.content is missing");
                added[id] = (content, JsonFile.Bool(t, "special") ?? false);
                byId[id] = content;
            }
        }

        int n = byId.Count == 0 ? 0 : byId.Keys.Max() + 1;
        if (n == 0)
            throw new InvalidDataException($"{path}: the vocabulary is empty");

        var tokens = new string[n];
        var types = new int[n];
        for (int i = 0; i < n; i++)
        {
            if (added.TryGetValue(i, out var a))
            {
                if (a.Special || LooksSpecial(a.Content))
                {
                    tokens[i] = a.Content;
                    types[i] = (int)GgufTokenType.Control;
                }
                else
                {
                    // llama.cpp expects user-defined tokens pre-normalized: SentencePiece's '▁' back to a space.
                    tokens[i] = a.Content.Replace('\u2581', ' ');
                    types[i] = (int)GgufTokenType.UserDefined;
                }
            }
            else if (byId.TryGetValue(i, out string? token))
            {
                tokens[i] = token;
                types[i] = (int)GgufTokenType.Normal;
            }
            else
            {
                tokens[i] = $"[PAD{i}]";
                types[i] = (int)GgufTokenType.Unused;
            }
        }

        var warnings = new List<string>();
        string pre = DetectPre(root, baseCount, path, warnings);

        return new GgufTokenizerData
        {
            Model = "gpt2",
            Pre = pre,
            Tokens = tokens,
            TokenTypes = types,
            Merges = ReadMerges(model, path),
            Warnings = warnings,
        };
    }

    /// <summary>convert_hf_to_gguf.py's does_token_look_special: added tokens that are control tokens in all but
    /// name (some models forget to mark them special).</summary>
    public static bool LooksSpecial(string token) =>
        token is "<pad>" or "<mask>" or "<2mass>" or "[@BOS@]" ||
        (token.StartsWith("<|", StringComparison.Ordinal) && token.EndsWith("|>", StringComparison.Ordinal)) ||
        (token.StartsWith("<｜", StringComparison.Ordinal) && token.EndsWith("｜>", StringComparison.Ordinal)) ||
        (token.StartsWith("<unused", StringComparison.Ordinal) && token.EndsWith('>'));

    private static string[] ReadMerges(JsonElement model, string path)
    {
        if (JsonFile.Property(model, "merges") is not { ValueKind: JsonValueKind.Array } merges)
            return [];
        var result = new string[merges.GetArrayLength()];
        int i = 0;
        foreach (var m in merges.EnumerateArray())
        {
            switch (m.ValueKind)
            {
                case JsonValueKind.String:
                    result[i] = m.GetString()!;
                    break;
                case JsonValueKind.Array when m.GetArrayLength() == 2 && m[0].ValueKind == JsonValueKind.String && m[1].ValueKind == JsonValueKind.String:
                    // transformers >= 4.45 writes pairs so that parts may contain spaces; llama.cpp keeps the
                    // "a b" form and encodes such spaces as byte-level 'Ġ' (gguf-py SpecialVocab).
                    result[i] = string.Concat(m[0].GetString()!.Replace(' ', '\u0120'), " ", m[1].GetString()!.Replace(' ', '\u0120'));
                    break;
                default:
                    throw new InvalidDataException($"{path}: model.merges[{i}] is neither \"a b\" nor [\"a\", \"b\"]");
            }

            i++;
        }

        return result;
    }

    private static bool UsesByteLevel(JsonElement root)
    {
        return HasByteLevel(JsonFile.Property(root, "pre_tokenizer")) || HasByteLevel(JsonFile.Property(root, "decoder"));

        static bool HasByteLevel(JsonElement? e)
        {
            if (e is not { ValueKind: JsonValueKind.Object } obj)
                return false;
            if (JsonFile.String(obj, "type") == "ByteLevel")
                return true;
            foreach (string listName in new[] { "pretokenizers", "decoders" })
            {
                if (JsonFile.Property(obj, listName) is { ValueKind: JsonValueKind.Array } list && list.EnumerateArray().Any(x => HasByteLevel(x)))
                    return true;
            }

            return false;
        }
    }

    /// <summary>The split regexes of the pre-tokenizer, outermost first.</summary>
    private static List<string> SplitPatterns(JsonElement root)
    {
        var patterns = new List<string>();
        Collect(JsonFile.Property(root, "pre_tokenizer"));
        return patterns;

        void Collect(JsonElement? e)
        {
            if (e is not { ValueKind: JsonValueKind.Object } obj)
                return;
            if (JsonFile.String(obj, "type") == "Split" && JsonFile.Property(obj, "pattern") is { } p && JsonFile.String(p, "Regex") is { } regex)
                patterns.Add(regex);
            if (JsonFile.Property(obj, "pretokenizers") is { ValueKind: JsonValueKind.Array } list)
            {
                foreach (var x in list.EnumerateArray())
                    Collect(x);
            }
        }
    }

    private static string DetectPre(JsonElement root, int baseCount, string path, List<string> warnings)
    {
        var patterns = SplitPatterns(root);
        if (patterns is [Llama3Pattern] && baseCount == Llama3BaseVocabSize)
            return KnownPre.Llama3;

        string found = patterns.Count == 0 ? "no split regex" : $"split regex {string.Join(" + ", patterns.Select(p => $"'{p}'"))}";
        warnings.Add($"{path}: pre-tokenizer not recognized ({found}, {baseCount} base tokens); wrote tokenizer.ggml.pre = \"default\", so llama.cpp will split text as GPT-2 does, which may not match this model");
        return KnownPre.Default;
    }
}
