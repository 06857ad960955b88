using Tern.Conversion;
using Tern.Gguf;
using Tern.Inference;
using Tern.Text;

namespace Tern.Tests.Inference;

/// <summary>
/// The real bitllama2.c 3M model, converted by Tern into a temporary folder and loaded once for a test class
/// (an xunit class fixture). Its tests share the loaded model read-only, as applications do.
/// </summary>
public sealed class Bit3MModel : IDisposable
{
    private readonly TempFolder _dir = TestData.NewTempFolder();

    public Bit3MModel()
    {
        Path = _dir.File("bit3m.gguf");
        using (var source = ModelSources.Open(TestData.SharedDataPath("models", "bitllama2c", "bit_model_3M.bin"), new ModelSourceOptions()))
            ModelConverter.Write(ModelConverter.Plan(source, new ConversionOptions { WeightType = GgmlType.I2_S, TokenEmbeddingType = GgmlType.F32 }), Path);
        Model = TernModel.Load(Path);
        Tokenizer = GgufTokenizer.Create(Model.Metadata);
    }

    public string Path { get; }

    public TernModel Model { get; }

    public GgufTokenizer Tokenizer { get; }

    /// <summary>The greedy continuation of <paramref name="prompt"/> from a fresh session, as `tern run --temp 0` gives it.</summary>
    public string GreedyText(string prompt, int maxTokens)
    {
        var generator = new TextGenerator(Model.CreateSession(Model.Config.ContextLength), Tokenizer);
        return string.Concat(generator.Generate(generator.Tokenize(prompt), maxTokens, SamplingOptions.Greedy).Select(t => t.Text));
    }

    public void Dispose()
    {
        Model.Dispose();
        _dir.Dispose();
    }
}
