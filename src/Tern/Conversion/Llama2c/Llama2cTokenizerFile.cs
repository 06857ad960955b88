using Tern.Conversion.Tokenizers;

namespace Tern.Conversion.Llama2c;

/// <summary>Finds and reads the tokenizer .bin that goes with a llama2.c model.</summary>
internal static class Llama2cTokenizerFile
{
    public static GgufTokenizerData Load(string modelPath, string? tokenizerPath, int vocabSize)
    {
        string path = tokenizerPath ?? Find(modelPath);
        return Llama2cTokenizerReader.Read(path, vocabSize);
    }

    private static string Find(string modelPath)
    {
        string folder = Path.GetDirectoryName(Path.GetFullPath(modelPath))!;
        foreach (var name in new[] { "tok512.bin", "tokenizer.bin" })
        {
            string candidate = Path.Combine(folder, name);
            if (File.Exists(candidate))
                return candidate;
        }

        throw new FileNotFoundException($"{modelPath}: no tokenizer found beside the model (tok512.bin or tokenizer.bin); pass --tokenizer FILE");
    }
}
