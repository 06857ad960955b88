using Microsoft.Extensions.AI;
using Tern.Chat;
using Tern.Conversion;
using Tern.Gguf;
using Tern.Inference;
using Tern.Inference.Placement;
using Tern.Text;

namespace Tern.Tests.Inference.Placement;

/// <summary>
/// The host's side of computing part of a model on a device, checked without one: a model placed on
/// <see cref="HostAccelerator"/> (whose "device" runs its blocks and head with the CPU code) gives the CPU model's
/// logits bit for bit, for -ngl 0, 1, some and all, with the head on the device or kept on the host by an override,
/// over a prompt of more than one chunk, then token by token, then the per-position logits perplexity reads.
/// </summary>
public sealed class OffloadHandOverTests(OffloadHandOverTests.Models models) : IClassFixture<OffloadHandOverTests.Models>
{
    /// <summary>The shipped model (I2_S, tied head) and bitllama2.c 3M converted to TQ2_0 (untied head) and TQ1_0.</summary>
    public sealed class Models : IDisposable
    {
        private readonly TempFolder _dir = TestData.NewTempFolder();

        public Models()
        {
            Tq2 = Convert("bit_model_3M.bin", "bit3m-tq2_0-untied.gguf", new ConversionOptions { WeightType = GgmlType.TQ2_0, TokenEmbeddingType = GgmlType.F32, Untie = true });
            Tq1 = Convert("bit_model_3M.bin", "bit3m-tq1_0.gguf", new ConversionOptions { WeightType = GgmlType.TQ1_0 });
        }

        public string Shipped => TestData.ShippedModelPath;

        public string Tq2 { get; }

        public string Tq1 { get; }

        public string this[string name] => name switch { "shipped" => Shipped, "tq2_0" => Tq2, "tq1_0" => Tq1, _ => throw new ArgumentException(name) };

        private string Convert(string source, string name, ConversionOptions options)
        {
            string path = _dir.File(name);
            using var input = ModelSources.Open(TestData.SharedDataPath("models", "bitllama2c", source), new ModelSourceOptions());
            ModelConverter.Write(ModelConverter.Plan(input, options), path);
            return path;
        }

        public void Dispose() => _dir.Dispose();
    }

    private const int All = ModelPlacement.AllLayers;

    /// <summary>Model, -ngl, the override (null: none) and the device's chunk (its prompt pass when it runs from block 0).</summary>
    public static TheoryData<string, int, string?, int> Placements
    {
        get
        {
            var data = new TheoryData<string, int, string?, int>();
            foreach (string model in new[] { "shipped", "tq2_0", "tq1_0" })
            {
                data.Add(model, 1, null, 64);
                data.Add(model, 1, @"^(output|token_embd)\.weight$=cpu", 64);
                data.Add(model, 2, null, 64);
                data.Add(model, All, null, 64);
                data.Add(model, All, @"^(output|token_embd)\.weight$=cpu", 64);
                data.Add(model, All, null, 100);
                data.Add(model, 0, @"^(output|token_embd)\.weight$=cuda", 64);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Placements))]
    public void LogitsEqualTheCpuModelsBitForBit(string model, int gpuLayers, string? overrideText, int deviceChunk)
    {
        string path = models[model];
        var placement = new ModelPlacement { GpuLayers = gpuLayers, Overrides = overrideText is null ? [] : TensorOverride.ParseList(overrideText) };
        var device = new HostAccelerator(deviceChunk);
        using var cpu = TernModel.Load(path, new TernModelOptions { Threads = 2 });
        using (var placed = TernModel.Load(path, new TernModelOptions { Threads = 2, Placement = placement, Accelerator = device }))
        {
            var offload = Assert.IsType<HostAccelerator.HostOffload>(placed.Offload);
            int blocks = cpu.Config.BlockCount;
            Assert.Equal(blocks - Math.Min(gpuLayers, blocks), offload.FirstLayer);
            bool headOnDevice = overrideText?.EndsWith("=cuda", StringComparison.Ordinal) ?? gpuLayers > 0;
            Assert.Equal(headOnDevice, offload.ComputesHead);
            Assert.Equal(offload.Summary, placed.Backend);

            var rng = new Random(11);
            // Past a chunk of 64 (and of the device's 100 when it runs every block), ending inside the next.
            var prompt = Enumerable.Range(0, 140).Select(_ => rng.Next(cpu.Config.VocabSize)).ToArray();
            using (var expected = cpu.CreateSession(160))
            using (var actual = placed.CreateSession(160))
            {
                Assert.Equal(expected.Evaluate(prompt).ToArray(), actual.Evaluate(prompt).ToArray());
                int token = Session.ArgMax(expected.Evaluate(prompt[0]));
                Assert.Equal(token, Session.ArgMax(actual.Evaluate(prompt[0])));
                for (int i = 0; i < 8; i++)
                {
                    var logits = expected.Evaluate(token).ToArray();
                    Assert.Equal(logits, actual.Evaluate(token).ToArray());
                    token = Session.ArgMax(logits);
                }

                // The logits after every token from the 70th on, as perplexity reads them, from a rewound session.
                expected.Rewind(0);
                actual.Rewind(0);
                var wanted = new List<float[]>();
                expected.Evaluate(prompt, 70, (i, logits) => wanted.Add(logits.ToArray()));
                int seen = 0;
                actual.Evaluate(prompt, 70, (i, logits) =>
                {
                    Assert.Equal(70 + seen, i);
                    Assert.Equal(wanted[seen++], logits.ToArray());
                });
                Assert.Equal(wanted.Count, seen);
            }

            Assert.Equal(0, device.OpenSessions);
        }

        Assert.True(device.Last!.Disposed, "the model disposes its offload");
    }

    /// <summary>
    /// Greedy steps give the CPU model's tokens: the device picks them when it computes the head, otherwise the host
    /// takes ArgMax of the logits (which the stand-in counts).
    /// </summary>
    [Theory]
    [MemberData(nameof(Placements))]
    public void GreedyStepsGiveTheCpuModelsTokens(string model, int gpuLayers, string? overrideText, int deviceChunk)
    {
        string path = models[model];
        var placement = new ModelPlacement { GpuLayers = gpuLayers, Overrides = overrideText is null ? [] : TensorOverride.ParseList(overrideText) };
        var device = new HostAccelerator(deviceChunk);
        using var cpu = TernModel.Load(path, new TernModelOptions { Threads = 2 });
        using var placed = TernModel.Load(path, new TernModelOptions { Threads = 2, Placement = placement, Accelerator = device });
        const int steps = 40;
        var rng = new Random(5);
        var prompt = Enumerable.Range(0, 20).Select(_ => rng.Next(cpu.Config.VocabSize)).ToArray();
        using var expected = cpu.CreateSession(prompt.Length + steps);
        using var actual = placed.CreateSession(prompt.Length + steps);
        int wanted = Session.ArgMax(expected.Evaluate(prompt));
        int got = Session.ArgMax(actual.Evaluate(prompt));
        for (int i = 0; i < steps; i++)
        {
            Assert.Equal(wanted, got);
            wanted = Session.ArgMax(expected.Evaluate(wanted));
            got = actual.EvaluateGreedy(got);
        }

        Assert.Equal(wanted, got);
        Assert.Equal(placed.Offload!.ComputesHead ? steps : 0, device.GreedySteps);
    }

    /// <summary>
    /// Generation at temperature 0 lets the device pick each token after the first; with a repetition penalty the
    /// sampler needs the logits, so the device hands them over. Both give the CPU model's text.
    /// </summary>
    [Theory]
    [InlineData(1f)]
    [InlineData(1.5f)]
    public void GreedyGenerationLetsTheDevicePickOnlyWhenNothingElseNeedsTheLogits(float repeatPenalty)
    {
        var sampling = SamplingOptions.Greedy with { RepeatPenalty = repeatPenalty };
        var device = new HostAccelerator();
        using var cpu = TernModel.Load(models.Shipped, new TernModelOptions { Threads = 2 });
        using var placed = TernModel.Load(models.Shipped, new TernModelOptions { Threads = 2, Placement = new ModelPlacement { GpuLayers = All }, Accelerator = device });
        var tokenizer = GgufTokenizer.Create(cpu.Metadata);
        List<int> Generate(TernModel model)
        {
            using var session = model.CreateSession(64);
            var generator = new TextGenerator(session, tokenizer);
            return generator.Generate(generator.Tokenize("ROMEO:"), 12, sampling).Where(t => t.Id >= 0).Select(t => t.Id).ToList();
        }

        var expected = Generate(cpu);
        var actual = Generate(placed);
        Assert.Equal(expected, actual);
        Assert.Equal(repeatPenalty == 1f ? actual.Count : 0, device.GreedySteps);
    }

    [Fact]
    public void NoPlacementLeavesTheAcceleratorUnused()
    {
        var device = new HostAccelerator();
        using var model = TernModel.Load(models.Shipped, new TernModelOptions { Threads = 1, Accelerator = device });
        Assert.Null(model.Offload);
        Assert.Equal("CPU", model.Backend);
        Assert.Null(device.Last);
    }

    [Fact]
    public void PerplexityAndGenerationFreeTheirSessions()
    {
        var device = new HostAccelerator();
        using var model = TernModel.Load(models.Shipped, new TernModelOptions { Threads = 2, Placement = new ModelPlacement { GpuLayers = 2 }, Accelerator = device });
        var tokenizer = GgufTokenizer.Create(model.Metadata);
        string text = File.ReadAllText(TestData.SharedDataPath("corpora", "tinyshakespeare", "input.txt"))[..2000];
        Perplexity.Compute(model, tokenizer, text, 64, maxChunks: 3);
        Assert.Equal(1, device.SessionsCreated);
        Assert.Equal(0, device.OpenSessions);

        using (var session = model.CreateSession(64))
        {
            var generator = new TextGenerator(session, tokenizer);
            Assert.NotEmpty(generator.Generate(generator.Tokenize("ROMEO:"), 4, SamplingOptions.Greedy).ToList());
        }

        Assert.Equal(0, device.OpenSessions);
    }

    [Fact]
    public async Task AChatClientFreesItsSessionWhenDisposed()
    {
        var device = new HostAccelerator();
        using var model = TernModel.Load(models.Shipped, new TernModelOptions { Threads = 2, Placement = new ModelPlacement { GpuLayers = ModelPlacement.AllLayers }, Accelerator = device });
        using (var client = new TernChatClient(model, options: new TernChatClientOptions { ContextLength = 128, MaxOutputTokens = 4 }))
        {
            await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], new ChatOptions { Temperature = 0 });
            await client.GetResponseAsync([new ChatMessage(ChatRole.User, "And then?")], new ChatOptions { Temperature = 0 });
            Assert.Equal(1, device.OpenSessions);
        }

        Assert.Equal(0, device.OpenSessions);
    }
}
