namespace Tern.Tests.Tokenizers;

/// <summary>Paths of the shared real files (../shared/data from the project root).</summary>
internal static class TestData
{
    public static string Path(string relative) => Tern.Tests.TestData.SharedDataPath(relative.Split('/'));

    public static string Llama2Model => Path("tokenizers/llama2/tokenizer.model");
    public static string Llama3Json => Path("tokenizers/llama3/tokenizer.json");
    public static string Llama3Tiktoken => Path("tokenizers/llama3/tokenizer.model");
    public static string Llama3Config => Path("tokenizers/llama3/tokenizer_config.json");
    public static string Llama3Folder => Path("tokenizers/llama3");
    public static string LlamaSpmGguf => Path("tokenizers/tests/ggml-vocab-llama-spm.gguf");
    public static string Tok512Model => Path("models/bitllama2c/tok512.model");
    public static string Tok512Bin => Path("models/bitllama2c/tok512.bin");
    public static string Stories260KTok512Bin => Path("models/stories260K/tok512.bin");
}
