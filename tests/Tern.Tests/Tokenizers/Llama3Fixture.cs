using Tern.Conversion.Tokenizers;

namespace Tern.Tests.Tokenizers;

/// <summary>Reads the two Llama 3 sources once per test class; each is ~128k tokens and ~280k merges.</summary>
public sealed class Llama3Fixture
{
    public GgufTokenizerData FromJson { get; } = HuggingFaceTokenizerJsonReader.Read(TestData.Llama3Json);

    public GgufTokenizerData FromTiktoken { get; } = TiktokenModelReader.Read(TestData.Llama3Tiktoken);
}
