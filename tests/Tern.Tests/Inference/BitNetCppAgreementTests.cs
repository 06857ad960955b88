using Tern.Conversion;
using Tern.Gguf;
using Tern.Inference;
using Tern.Text;

namespace Tern.Tests.Inference;

/// <summary>
/// Tern against bitnet.cpp on the same I2_S file: a miniature 2B-4T (<see cref="SyntheticBitNet2B"/>) built from a
/// fixed seed and converted by Tern's Hugging Face converter. Every expected number below comes from bitnet.cpp,
/// never from Tern.
/// </summary>
/// <remarks>
/// <para>How the numbers were produced (2026-11-22, bitnet.cpp = microsoft/BitNet 16da220ae2b5 with its vendored
/// llama.cpp fork, x86 build, built under /tmp as ../shared/PEERS.md describes):</para>
/// <list type="number">
/// <item>The file: <c>TERN_BITNETCPP_MODEL_OUT=/tmp/synth.gguf dotnet test --filter BitNetCppAgreementTests</c>
/// (the fixture copies its converted file there; tensor digest <see cref="TensorDigest"/>).</item>
/// <item>Greedy text and prompt tokens: <c>llama-cli -m /tmp/synth.gguf -p "The capital of France is" -n 32 --temp 0
/// --repeat-penalty 1 -s 1 -t 2 --verbose-prompt --simple-io</c>.</item>
/// <item>Logits and generated ids: llama-cli prints neither, so a 60-line C++ program built under /tmp against the same
/// build's libllama (llama_tokenize with BOS, llama_decode, llama_get_logits_ith(-1), argmax) printed the top-10
/// logits and the greedy ids, with llama-cli's context settings (F16 K/V cache, no flash attention, the prompt as one
/// batch, 1 thread). Its ids decode to exactly llama-cli's text. The program is not part of Tern.</item>
/// </list>
/// <para>Why the checks after the prompt are looser than 1e-3. bitnet.cpp stores K and V in F16 and converts Q and the
/// attention weights to F16 for the two attention products (an F32 V cache needs flash attention, which crashes in
/// this fork with an F32 cache). BitNet quantizes every BitLinear input per token to int8, so a 1e-4 rounding moves a
/// few activations to the neighbouring integer, and the model amplifies that. bitnet.cpp does not agree with itself:
/// on this file and prompt, its six configurations (prompt as a batch or token by token, F16 or F32 K cache, flash
/// attention) give top logits up to 1.6 % apart (the second best, 23.706 … 24.075) and generate the same first 15
/// tokens, then split two ways at the 16th (99421 in five of them; 56695 with an F32 K cache and the prompt fed token
/// by token, and in Tern, which keeps the KV cache and attention in F32). So the prompt's logits are held to 1 %
/// (Tern is within 0.34 % of llama-cli's configuration, in the same order) and the greedy tokens to those 15. With BOS alone (one position, where the attention weight is exactly 1) there is nothing to
/// round that reaches the logits, every configuration prints the same logits, and Tern agrees to 1e-4 (the F16 head
/// rounds the final activations to F16 in bitnet.cpp; with an F32 head the difference is 1e-6). The model's
/// attention branch is kept small for the same reason (<see cref="SyntheticBitNet2B"/>): at full weight,
/// bitnet.cpp's configurations already part at the second token.</para>
/// <para>Mainline llama.cpp cannot take part: it has no <c>bitnet-b1.58</c> architecture (its <c>bitnet</c> is the
/// SiLU model) and cannot read I2_S (docs/formats.md).</para>
/// </remarks>
public sealed class BitNetCppAgreementTests(BitNetCppAgreementTests.Model model) : IClassFixture<BitNetCppAgreementTests.Model>
{
    private const string Prompt = "The capital of France is";

    /// <summary>SHA-256 of the tensors (names, types, shapes, bytes) of the file the peer ran.</summary>
    private const string TensorDigest = "b8def96cc22aa4a77fd553a258978d65a10db0796a38add7846f340f8d70910e";

    /// <summary>llama-cli --verbose-prompt.</summary>
    private static readonly int[] PromptTokens = [128000, 791, 6864, 315, 9822, 374];

    /// <summary>llama-cli's text after the prompt (32 tokens).</summary>
    private const string LlamaCliText = " Honour Fin-us__\r\n словамиelandutures ﺍ徒歩.dgvUMPsjłoSocial gz ghetto_STARcompareTo保護olvable.ConvertsiblingsCORD **)\tcharnunлаг suspects(predict independentlycod contender";

    /// <summary>The ids of llama-cli's text; bitnet.cpp's own configurations agree on the first <see cref="StableSteps"/>.</summary>
    private static readonly int[] LlamaCliTokens =
    [
        96914, 5767, 26766, 63664, 121330, 18615, 75706, 120803, 115347, 44148, 24662, 23760, 23762, 27414, 78063,
        99421, 71886, 56683, 123050, 89197, 37279, 53020, 24801, 28976, 7602, 116667, 119521, 30861, 52937, 29235, 20720, 57259,
    ];

    private const int StableSteps = 15;

    /// <summary>Top-10 logits after the prompt, llama-cli's configuration.</summary>
    private static readonly (int Id, float Logit)[] PromptTop10 =
    [
        (96914, 24.1393204f), (119992, 23.9327488f), (111981, 23.6986961f), (112141, 23.5741768f), (43692, 23.3752117f),
        (65511, 23.1517849f), (45932, 22.5550289f), (118366, 22.5080376f), (96865, 22.3681793f), (84990, 22.0146465f),
    ];

    /// <summary>Top-10 logits after BOS alone (identical in all six configurations).</summary>
    private static readonly (int Id, float Logit)[] BosTop10 =
    [
        (95004, 26.4675522f), (83465, 25.7066689f), (5277, 25.693676f), (13188, 24.8750496f), (122456, 24.1202679f),
        (80476, 24.0443573f), (123917, 23.8774529f), (107714, 23.7916908f), (92985, 23.397438f), (8425, 23.0433483f),
    ];

    [Fact]
    public void TheFileIsTheOneBitNetCppRan() =>
        Assert.True(SyntheticBitNet2B.TensorDigest(model.Path) == TensorDigest,
            "the synthetic model's tensors changed: the peer's numbers no longer apply; regenerate them as the class comment says");

    [Fact]
    public void PromptTokensAreBitNetCpps()
    {
        using var loaded = TernModel.Load(model.Path);
        var tokenizer = GgufTokenizer.Create(loaded.Metadata);
        Assert.Equal(PromptTokens, tokenizer.Encode(Prompt, tokenizer.AddBos, parseSpecial: true));
    }

    [Fact]
    public void LogitsAfterBosAgreeWithin1e3()
    {
        using var loaded = TernModel.Load(model.Path);
        AssertTop10(Logits(loaded, [PromptTokens[0]]), BosTop10, 1e-3);
    }

    [Fact]
    public void LogitsAfterThePromptAgreeWithinBitNetCppsOwnSpread()
    {
        using var loaded = TernModel.Load(model.Path);
        AssertTop10(Logits(loaded, PromptTokens), PromptTop10, 1e-2);
    }

    [Fact]
    public void GreedyTokensAreLlamaClis()
    {
        using var loaded = TernModel.Load(model.Path);
        var tokenizer = GgufTokenizer.Create(loaded.Metadata);
        var generator = new TextGenerator(loaded.CreateSession(64), tokenizer);
        var ids = generator.Generate(PromptTokens, StableSteps, new SamplingOptions { Temperature = 0, Seed = 1 })
            .Where(g => g.Id >= 0).Select(g => g.Id).ToArray();
        Assert.Equal(LlamaCliTokens[..StableSteps], ids);
        Assert.StartsWith(tokenizer.Decode(ids), LlamaCliText, StringComparison.Ordinal);
        Assert.True(ids.Distinct().Count() > StableSteps / 2, "degenerate model: greedy repeats itself");
    }

    private static float[] Logits(TernModel loaded, int[] tokens)
    {
        var session = loaded.CreateSession(tokens.Length);
        var logits = new float[loaded.Config.VocabSize];
        foreach (int t in tokens)
            session.Evaluate(t).CopyTo(logits);
        return logits;
    }

    private static void AssertTop10(float[] logits, (int Id, float Logit)[] expected, double relative)
    {
        var top = Enumerable.Range(0, logits.Length).OrderByDescending(i => logits[i]).ThenBy(i => i).Take(expected.Length).ToArray();
        Assert.Equal(expected.Select(e => e.Id), top);
        foreach (var (id, value) in expected)
        {
            double error = Math.Abs(logits[id] - value) / Math.Abs(value);
            Assert.True(error <= relative, $"token {id}: Tern {logits[id]}, bitnet.cpp {value} ({error:E2} relative, allowed {relative:E0})");
        }
    }

    /// <summary>Builds the checkpoint and converts it to I2_S once for the class (F16 embedding and head, as 2B-4T).</summary>
    public sealed class Model : IDisposable
    {
        private readonly TempFolder _temp = TestData.NewTempFolder();

        public Model()
        {
            string folder = Directory.CreateDirectory(_temp.File("bitnet-2b-synthetic")).FullName;
            SyntheticBitNet2B.WriteCheckpoint(folder);
            Path = _temp.File("synthetic-i2_s.gguf");
            SyntheticBitNet2B.Convert(folder, Path, new ConversionOptions { WeightType = GgmlType.I2_S });
            // How the peer's copy was made: the same bytes, kept where bitnet.cpp can open them.
            if (Environment.GetEnvironmentVariable("TERN_BITNETCPP_MODEL_OUT") is { Length: > 0 } copy)
                File.Copy(Path, copy, overwrite: true);
        }

        public string Path { get; }

        public void Dispose() => _temp.Dispose();
    }
}
