using System.Text;

namespace Tern.Conversion.Tokenizers;

/// <summary>
/// The tokenizer a Hugging Face model folder offers: which file, of which kind, and the tokenizer_config.json
/// beside it. <see cref="Detect"/> prefers tokenizer.json (it holds the added tokens as the model was trained
/// with them), then tokenizer.model, told apart by content since SentencePiece and tiktoken share the name.
/// </summary>
public sealed record TokenizerSource(string Folder, TokenizerSourceKind Kind, string TokenizerPath, string? ConfigPath)
{
    public const string TokenizerJsonName = "tokenizer.json";
    public const string TokenizerModelName = "tokenizer.model";
    public const string TokenizerConfigName = "tokenizer_config.json";
    public const string ChatTemplateJinjaName = "chat_template.jinja";

    public static TokenizerSource Detect(string folder)
    {
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"model folder '{folder}' does not exist");

        string config = Path.Combine(folder, TokenizerConfigName);
        string? configPath = File.Exists(config) ? config : null;

        string json = Path.Combine(folder, TokenizerJsonName);
        if (File.Exists(json))
            return new(folder, TokenizerSourceKind.HuggingFaceJson, json, configPath);

        string model = Path.Combine(folder, TokenizerModelName);
        if (File.Exists(model))
            return new(folder, SniffModel(model), model, configPath);

        throw new FileNotFoundException(
            $"no tokenizer in '{folder}': expected {TokenizerJsonName} or {TokenizerModelName} (SentencePiece or tiktoken)");
    }

    /// <summary>
    /// A tokenizer named by path (tern train --tokenizer): a folder as in <see cref="Detect"/>; a *.json file is a
    /// Hugging Face tokenizer.json, any other file is told apart by content as in <see cref="Detect"/>. A
    /// tokenizer_config.json beside the file is used.
    /// </summary>
    public static TokenizerSource FromPath(string path)
    {
        if (Directory.Exists(path))
            return Detect(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"tokenizer file '{path}' does not exist", path);

        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string config = Path.Combine(folder, TokenizerConfigName);
        var kind = path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? TokenizerSourceKind.HuggingFaceJson : SniffModel(path);
        return new(folder, kind, path, File.Exists(config) ? config : null);
    }

    /// <summary>Reads the tokenizer and lays tokenizer_config.json (and chat_template.jinja) over it.</summary>
    public GgufTokenizerData Load()
    {
        var config = ConfigPath is null ? null : HuggingFaceTokenizerConfig.Read(ConfigPath);
        var data = Kind switch
        {
            TokenizerSourceKind.HuggingFaceJson => HuggingFaceTokenizerJsonReader.Read(TokenizerPath),
            TokenizerSourceKind.SentencePiece => SentencePieceModelReader.Read(TokenizerPath),
            TokenizerSourceKind.Tiktoken => TiktokenModelReader.Read(TokenizerPath, SpecialTokensFrom(config)),
            _ => throw new InvalidOperationException($"unknown tokenizer kind {Kind}"),
        };

        // Newer transformers save the template beside the config instead of inside it.
        string jinja = Path.Combine(Folder, ChatTemplateJinjaName);
        if (config?.ChatTemplate is null && File.Exists(jinja))
            data = data with { ChatTemplate = File.ReadAllText(jinja) };

        return config is null ? data : config.ApplyTo(data);
    }

    /// <summary>A tiktoken file holds no special tokens; tokenizer_config.json names them (Llama 3.1 renamed
    /// some reserved slots), and without it the reader falls back to Llama 3's list.</summary>
    private static List<string>? SpecialTokensFrom(HuggingFaceTokenizerConfig? config)
    {
        if (config is null || config.AddedTokens.Count == 0)
            return null;
        int first = config.AddedTokens.Keys.Min();
        var names = new List<string>(config.AddedTokens.Count);
        for (int id = first; config.AddedTokens.TryGetValue(id, out var t); id++)
            names.Add(t.Content);
        return names.Count == config.AddedTokens.Count ? names : null;
    }

    /// <summary>
    /// A SentencePiece model is a protobuf message whose first field is a piece (key byte 0x0A); a tiktoken
    /// file is text lines "base64 rank".
    /// </summary>
    private static TokenizerSourceKind SniffModel(string path)
    {
        Span<byte> head = stackalloc byte[256];
        int n;
        using (var stream = File.OpenRead(path))
            n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        head = head[..n];

        if (n > 0 && head[0] == 0x0A)
            return TokenizerSourceKind.SentencePiece;

        int newline = head.IndexOf((byte)'\n');
        var firstLine = newline >= 0 ? head[..newline] : head;
        int space = firstLine.IndexOf((byte)' ');
        if (space > 0 && IsBase64(firstLine[..space]) && IsDigits(firstLine[(space + 1)..].TrimEnd((byte)'\r')))
            return TokenizerSourceKind.Tiktoken;

        throw new InvalidDataException(
            $"{path}: neither a SentencePiece model (protobuf) nor a tiktoken rank file (\"base64 rank\" lines); starts with \"{Encoding.ASCII.GetString(head[..Math.Min(n, 16)])}\"");
    }

    private static bool IsBase64(ReadOnlySpan<byte> s)
    {
        foreach (byte c in s)
        {
            if (!(char.IsAsciiLetterOrDigit((char)c) || c is (byte)'+' or (byte)'/' or (byte)'='))
                return false;
        }

        return true;
    }

    private static bool IsDigits(ReadOnlySpan<byte> s)
    {
        foreach (byte c in s)
        {
            if (!char.IsAsciiDigit((char)c))
                return false;
        }

        return s.Length > 0;
    }
}
