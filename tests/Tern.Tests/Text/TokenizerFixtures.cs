using Tern.Conversion.Tokenizers;
using Tern.Gguf;
using Tern.Text;

namespace Tern.Tests.Text;

/// <summary>llama.cpp's SentencePiece test vocabulary, read from its real GGUF file.</summary>
public sealed class LlamaSpmFixture
{
    public GgufTokenizer Tokenizer { get; } = Load();

    private static GgufTokenizer Load()
    {
        using var file = GgufFile.Open(TestData.SharedDataPath("tokenizers", "tests", "ggml-vocab-llama-spm.gguf"));
        return GgufTokenizer.Create(file.Metadata);
    }
}

/// <summary>Llama 3's vocabulary: there is no llama-bpe GGUF in the shared data, so Tern's converter writes the
/// metadata from the Hugging Face folder, as `tern convert` would.</summary>
public sealed class LlamaBpeFixture
{
    public GgufMetadata Metadata { get; }

    public GgufTokenizer Tokenizer { get; }

    public LlamaBpeFixture()
    {
        Metadata = new GgufMetadata();
        TokenizerSource.Detect(TestData.SharedDataPath("tokenizers", "llama3")).Load().WriteTo(Metadata);
        Tokenizer = GgufTokenizer.Create(Metadata);
    }
}
