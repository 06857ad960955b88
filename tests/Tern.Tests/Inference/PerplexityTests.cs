using Tern.Conversion;
using Tern.Gguf;
using Tern.Inference;
using Tern.Text;

namespace Tern.Tests.Inference;

/// <summary>
/// Perplexity against llama.cpp's own tool on the same GGUF files (llama.cpp @34af94cd, built under /tmp):
/// `llama-perplexity -m FILE -f ../shared/data/corpora/tinystories/validation_100.txt -c C --chunks 8 -t 2`.
/// </summary>
public class PerplexityTests
{
    private static string Text => File.ReadAllText(TestData.SharedDataPath("corpora", "tinystories", "validation_100.txt"));

    private static PerplexityResult Run(string input, ConversionOptions options, int context)
    {
        using var dir = TestData.NewTempFolder();
        string gguf = dir.File("m.gguf");
        using (var source = ModelSources.Open(input))
            ModelConverter.Write(ModelConverter.Plan(source, options), gguf);
        using var model = TernModel.Load(gguf);
        return Perplexity.Compute(model, GgufTokenizer.Create(model.Metadata), Text, context, maxChunks: 8);
    }

    [Fact]
    public void FloatModelMatchesLlamaCpp()
    {
        // llama.cpp: [1]62.4238 … [8]6.9556, "Final estimate: PPL = 6.9556 +/- 1.06414". The rest of the gap is its
        // F16 KV cache.
        var r = Run(TestData.SharedDataPath("models", "stories260K", "stories260K.bin"),
            new ConversionOptions { WeightType = GgmlType.F32, TokenEmbeddingType = GgmlType.F32 }, 128);
        Assert.Equal(8, r.Chunks);
        Assert.Equal(8 * (128 - 64 - 1), r.ScoredTokens);
        Assert.Equal(6.9556, r.Value, 6.9556 * 1e-3);
        Assert.Equal(1.06414, r.StandardError, 1.06414 * 1e-2);
    }

    [Fact]
    public void TernaryModelMatchesLlamaCppWithinItsActivationQuantization()
    {
        // llama.cpp on the TQ2_0 file: "Final estimate: PPL = 5.2761 +/- 0.41486". llama.cpp quantizes activations
        // in blocks of 256 (Q8_K), Tern per token as BitNet does, so the two differ slightly (0.17 % here).
        var r = Run(TestData.SharedDataPath("models", "bitllama2c", "bit_model_3M.bin"), new ConversionOptions { WeightType = GgmlType.TQ2_0 }, 256);
        Assert.Equal(8 * (256 - 128 - 1), r.ScoredTokens);
        Assert.Equal(5.2761, r.Value, 5.2761 * 5e-3);
    }

    [Fact]
    public void TooShortATextIsRefused()
    {
        using var dir = TestData.NewTempFolder();
        string gguf = dir.File("m.gguf");
        using (var source = ModelSources.Open(TestData.SharedDataPath("models", "stories260K", "stories260K.bin")))
            ModelConverter.Write(ModelConverter.Plan(source, new ConversionOptions { WeightType = GgmlType.F32 }), gguf);
        using var model = TernModel.Load(gguf);
        var e = Assert.Throws<ArgumentException>(() => Perplexity.Compute(model, GgufTokenizer.Create(model.Metadata), "Once upon a time.", 128));
        Assert.Contains("at least 256", e.Message);
    }
}
