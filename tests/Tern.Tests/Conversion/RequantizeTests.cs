using Tern.Conversion;
using Tern.Formats;
using Tern.Gguf;
using Tern.Quantization;

namespace Tern.Tests.Conversion;

/// <summary>
/// `tern quantize` (GgufRequantizer): I2_S → TQ2_0 → TQ1_0 → I2_S keeps every ternary value, copies every other
/// tensor byte for byte and all metadata but general.file_type; scales survive exactly when fp16 holds them, and
/// are reported when it does not; blocks with different scales cannot become I2_S.
/// </summary>
public class RequantizeTests
{
    /// <summary>A small packed 2B-4T-style checkpoint whose bf16 weight_scales (multiplied) are exact in fp16.</summary>
    private sealed class ExactScales() : BuiltCheckpoint(
        "exact-scales",
        """
        {"architectures":["BitNetForCausalLM"],"bos_token_id":1,"eos_token_id":2,"hidden_act":"relu2","hidden_size":256,"intermediate_size":512,"max_position_embeddings":512,"model_type":"bitnet","rms_norm_eps":1e-05,"num_attention_heads":4,"num_hidden_layers":2,"num_key_value_heads":2,"rope_theta":10000.0,"tie_word_embeddings":true,"torch_dtype":"bfloat16","vocab_size":512,"quantization_config":{"quant_method":"bitnet","linear_class":"autobitlinear","quantization_mode":"offline"}}
        """,
        new ModelDims(Hidden: 256, Intermediate: 512, Layers: 2, Heads: 4, KvHeads: 2, Vocab: 512, HeadDim: 64),
        new SyntheticOptions
        {
            FloatType = SafetensorsDType.BF16,
            Storage = ProjectionStorage.Packed,
            WeightScaleMultiplies = true,
            AttentionSubNorm = "self_attn.attn_sub_norm",
            FfnSubNorm = "mlp.ffn_sub_norm",
            Seed = 9,
        },
        c => c.CopyShared("tokenizer.model", "models", "bitllama2c", "tok512.model"));

    private static readonly GgmlType[] Steps = [GgmlType.TQ2_0, GgmlType.TQ1_0, GgmlType.I2_S];

    /// <summary>Runs the chain from an I2_S file; checks each step against the first file; returns the last path and the notes of each step.</summary>
    private static (string Last, List<IReadOnlyList<GgufRequantizer.TensorResult>> Results) Chain(string first, TempFolder tmp)
    {
        var results = new List<IReadOnlyList<GgufRequantizer.TensorResult>>();
        string input = first;
        using var original = GgufFile.Open(first);
        foreach (var target in Steps)
        {
            string output = tmp.File($"step{results.Count + 1}-{target}.gguf");
            results.Add(GgufRequantizer.Requantize(input, output, target));
            using var file = GgufFile.Open(output);
            AssertSameModel(original, file, target);
            input = output;
        }

        return (input, results);
    }

    private static void AssertSameModel(GgufFile original, GgufFile file, GgmlType target)
    {
        var a = original.Metadata.Where(kv => kv.Key != "general.file_type").ToList();
        var b = file.Metadata.Where(kv => kv.Key != "general.file_type").ToList();
        Assert.Equal(a.Select(kv => kv.Key), b.Select(kv => kv.Key));
        for (int i = 0; i < a.Count; i++)
            Assert.True(a[i].Value.Equals(b[i].Value), $"metadata '{a[i].Key}' changed");
        Assert.Equal(SyntheticModel.FileType(target), file.Metadata.GetUInt32("general.file_type"));

        Assert.Equal(original.Tensors.Select(t => t.Name), file.Tensors.Select(t => t.Name));
        foreach (var t in original.Tensors)
        {
            var u = file.GetTensor(t.Name);
            Assert.Equal(t.Shape, u.Shape);
            if (t.Type == GgmlType.I2_S)
            {
                Assert.Equal(target, u.Type);
                var before = GgufReads.Ternary(original, t).Values;
                var after = GgufReads.Ternary(file, u).Values;
                Assert.True(before.AsSpan().SequenceEqual(after), $"{t.Name}: ternary values changed going to {target}");
            }
            else
            {
                Assert.Equal(t.Type, u.Type);
                Assert.True(original.GetTensorData(t).SequenceEqual(file.GetTensorData(u)), $"{t.Name}: bytes changed going to {target}");
            }
        }
    }

    [Fact]
    public void BitLlama2cChainKeepsValuesAndReportsRoundedScales()
    {
        using var tmp = TestData.NewTempFolder();
        string first = tmp.File("bit_model_3M.gguf");
        using (var source = ModelSources.Open(TestData.SharedDataPath("models", "bitllama2c", "bit_model_3M.bin")))
            GgufReads.Convert(source, first, new ConversionOptions { WeightType = GgmlType.I2_S });

        var (last, results) = Chain(first, tmp);

        using var a = GgufFile.Open(first);
        using var b = GgufFile.Open(last);
        int inexact = 0;
        foreach (var t in a.Tensors.Where(t => t.Type == GgmlType.I2_S))
        {
            float scale = GgufReads.Ternary(a, t).BlockScales[0];
            var decoded = GgufReads.Ternary(b, b.GetTensor(t.Name));
            Assert.True(decoded.TryGetUniformScale(out float roundTripped));
            Assert.Equal(Expected.F16(scale), roundTripped);
            var note = results[0].Single(r => r.Name == t.Name).Note;
            if (Expected.F16(scale) != scale)
            {
                inexact++;
                Assert.NotNull(note);
                Assert.Contains(scale.ToString("R"), note, StringComparison.Ordinal);
                Assert.Contains(Expected.F16(scale).ToString("R"), note, StringComparison.Ordinal);
            }
            else
            {
                Assert.Null(note);
            }
        }

        Assert.True(inexact > 0, "bitllama2.c's scales were expected not to be fp16-exact");
    }

    [Fact]
    public void Fp16ExactScalesComeBackByteForByte()
    {
        using var checkpoint = new ExactScales();
        using var tmp = TestData.NewTempFolder();
        string first = tmp.File("first.gguf");
        GgufReads.Convert(checkpoint.Source, first, new ConversionOptions { WeightType = GgmlType.I2_S });

        var (last, results) = Chain(first, tmp);

        Assert.All(results.SelectMany(r => r), r => Assert.Null(r.Note));
        Assert.True(File.ReadAllBytes(first).AsSpan().SequenceEqual(File.ReadAllBytes(last)), "I2_S → TQ2_0 → TQ1_0 → I2_S changed the file");
    }

    [Fact]
    public void DifferentBlockScalesCannotBecomeI2S()
    {
        using var tmp = TestData.NewTempFolder();
        var values = Expected.RandomTernary(new Random(5), 512);
        var data = new byte[TQ2_0Format.ByteSize(512)];
        TQ2_0Format.EncodeTernary(values, [0.5f, 0.75f], data);
        var metadata = new GgufMetadata();
        metadata.Set("general.architecture", "bitnet");
        metadata.Set("general.file_type", 37u);
        var writer = new GgufWriter(metadata);
        writer.AddTensor("output_norm.weight", GgmlType.F32, [4], new byte[16]);
        writer.AddTensor("blk.0.attn_q.weight", GgmlType.TQ2_0, [256, 2], data);
        string input = tmp.File("blocks.gguf");
        writer.Write(input);

        var output = Path.Combine(Directory.CreateDirectory(tmp.File("out")).FullName, "i2s.gguf");
        var e = Assert.Throws<InvalidDataException>(() => GgufRequantizer.Requantize(input, output, GgmlType.I2_S));
        Assert.Contains(input, e.Message, StringComparison.Ordinal);
        Assert.Contains("'blk.0.attn_q.weight'", e.Message, StringComparison.Ordinal);
        Assert.Contains("different scales", e.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(output)!));

        // TQ1_0 keeps per-block scales, so the same tensor goes there without loss.
        string tq1 = tmp.File("tq1.gguf");
        GgufRequantizer.Requantize(input, tq1, GgmlType.TQ1_0);
        using var file = GgufFile.Open(tq1);
        var decoded = GgufReads.Ternary(file, file.GetTensor("blk.0.attn_q.weight"));
        Assert.Equal(values, decoded.Values);
        Assert.Equal([0.5f, 0.75f], decoded.BlockScales);
    }

    [Fact]
    public void ANonTernaryTargetIsRefused()
    {
        using var tmp = TestData.NewTempFolder();
        var e = Assert.Throws<ArgumentException>(() => GgufRequantizer.Requantize(tmp.File("in.gguf"), tmp.File("out.gguf"), GgmlType.Q8_0));
        Assert.Contains("Q8_0", e.Message, StringComparison.OrdinalIgnoreCase);
    }
}
