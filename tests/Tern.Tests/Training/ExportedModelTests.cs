using Tern.Conversion;
using Tern.Conversion.Tokenizers;
using Tern.Gguf;
using Tern.Inference;
using Tern.Training.Export;
using Tern.Training.Model;

namespace Tern.Tests.Training;

/// <summary>The engine runs an exported model with the trainer's logits.</summary>
public class ExportedModelTests
{
    internal static GgufTokenizerData ByteVocabulary() => new()
    {
        Model = "gpt2",
        Pre = "default",
        Tokens = Enumerable.Range(0, 256).Select(b => ByteLevelEncoding.Encode((byte)b).ToString()).ToArray(),
        TokenTypes = Enumerable.Repeat((int)GgufTokenType.Normal, 256).ToArray(),
        Merges = [],
        AddBos = false,
    };

    [Theory]
    [InlineData("bitnet-b1.58", "i2_s", true, 1e-4)]
    [InlineData("llama", "i2_s", false, 1e-4)]
    [InlineData("bitnet-b1.58", "tq2_0", true, 2e-3)]
    public void Engine_logits_equal_the_trainers_quantized_forward(string arch, string type, bool tied, double tolerance)
    {
        var shape = new ModelShape
        {
            Architecture = TrainingArchitectures.Parse(arch),
            VocabularySize = 256,
            Dim = 256,
            Layers = 2,
            Heads = 4,
            KvHeads = 2,
            FfnDim = 512,
            Context = 48,
            TiedEmbedding = tied,
        };
        var layout = new ParameterLayout(shape);
        var model = new TrainingModel<float>(layout, 1);
        ParameterInitializer.Initialize(layout, model.Parameters, seed: 5);
        var random = new Random(3);
        foreach (var tensor in layout.Tensors)
        {
            var values = tensor.Slice(model.Parameters);
            for (int i = 0; i < values.Length; i++)
                values[i] = tensor.Kind == ParameterKind.Norm ? 1f + (0.3f * ((float)random.NextDouble() - 0.5f)) : values[i] * 5;
        }

        // TQ2_0 stores the scale as fp16 per block: make each γ one that fp16 holds, so the file is exact.
        foreach (var tensor in layout.Tensors.Where(t => t.Kind == ParameterKind.Linear))
        {
            var values = tensor.Slice(model.Parameters);
            double gamma = 0;
            foreach (float v in values)
                gamma += Math.Abs(v);
            gamma /= values.Length;
            float factor = (float)((double)(float)(Half)gamma / gamma);
            foreach (ref float v in values)
                v *= factor;
        }

        int[] tokens = Enumerable.Range(0, shape.Context).Select(_ => random.Next(256)).ToArray();
        var expected = new float[shape.Context * shape.VocabularySize];
        model.ComputeLogits(tokens, 1, expected);

        using var dir = new TempFolder();
        string path = Path.Combine(dir.Path, "trained.gguf");
        using (var source = new TrainedModelSource(layout, model.Parameters, ByteVocabulary(), "test"))
        {
            var plan = ModelConverter.Plan(source, new ConversionOptions { WeightType = GgmlTypeTraits.TryParse(type, out var t) ? t : throw new ArgumentException(type), TokenEmbeddingType = GgmlType.F32, OutputTensorType = GgmlType.F32 });
            ModelConverter.Write(plan, path);
        }

        using var engine = TernModel.Load(path, new TernModelOptions { Threads = 2 });
        var session = engine.CreateSession();
        double worst = 0;
        session.Evaluate(tokens, 0, (t, logits) =>
        {
            var want = expected.AsSpan(t * shape.VocabularySize, shape.VocabularySize);
            float scale = 0;
            foreach (float v in want)
                scale = Math.Max(scale, Math.Abs(v));
            for (int i = 0; i < want.Length; i++)
                worst = Math.Max(worst, Math.Abs(logits[i] - want[i]) / scale);
        });
        Assert.True(worst <= tolerance, $"largest difference {worst:e2} of the row's largest logit");
        Assert.True(worst > 0 || type == "i2_s", "a TQ2_0 file rounds the scale to fp16");
    }

    /// <summary>The model the repository ships, read back into the trainer (exactly: see GgufModelImport), generates
    /// greedily what the engine generates from the file: 256 tokens after a one-token prompt fill its 256 positions.</summary>
    [Fact]
    public void Greedy_generation_of_256_tokens_is_the_same_in_the_trainer_and_the_engine()
    {
        string path = TestData.ShippedModelPath;
        var imported = GgufModelImport.Load(path);
        int Context = imported.Shape.Context;
        var layout = new ParameterLayout(imported.Shape);
        var model = new TrainingModel<float>(layout, 1, null);
        imported.Parameters.CopyTo(model.Parameters, 0);
        var vocabulary = Tern.Training.Data.TrainingVocabulary.FromTokenizerData(imported.Vocabulary, "the shipped model's");

        int[] prompt = vocabulary.Encode("K");
        int vocab = imported.Shape.VocabularySize;
        var tokens = new List<int>(prompt);
        var padded = new int[Context];
        var logits = new float[Context * vocab];
        while (tokens.Count < prompt.Length + 256)
        {
            tokens.CopyTo(padded);
            model.ComputeLogits(padded, 1, logits);
            tokens.Add(Session.ArgMax(logits.AsSpan((tokens.Count - 1) * vocab, vocab)));
        }

        using var engine = TernModel.Load(path, new TernModelOptions { Threads = 2 });
        var session = engine.CreateSession(Context);
        var generated = new List<int>(prompt);
        generated.Add(Session.ArgMax(session.Evaluate(prompt)));
        while (generated.Count < prompt.Length + 256)
            generated.Add(Session.ArgMax(session.Evaluate(generated[^1])));

        Assert.Equal(tokens, generated);
        Assert.True(tokens.Skip(prompt.Length).Distinct().Count() > 10, "the generation repeats a few tokens: " + vocabulary.Decode(tokens.ToArray()));
    }
}
