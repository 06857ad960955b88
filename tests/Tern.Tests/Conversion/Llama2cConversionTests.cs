using Tern.Conversion;
using Tern.Formats;
using Tern.Gguf;

namespace Tern.Tests.Conversion;

/// <summary>
/// The real llama2.c and bitllama2.c files of ../shared/data through the converter: the float model stored exactly,
/// the two bit orders of the ternary model giving the same file, ternary values carried exactly with q/k rows
/// reordered for NEOX RoPE, and a row length TQ2_0 cannot hold refused by name.
/// </summary>
public class Llama2cConversionTests
{
    private static string Shared(params string[] parts) => TestData.SharedDataPath(["models", .. parts]);

    private static ConvertedFile Convert(string input, string output, ConversionOptions options, ModelSourceOptions? sourceOptions = null)
    {
        using var source = ModelSources.Open(input, sourceOptions);
        var notes = GgufReads.Convert(source, output, options);
        return new ConvertedFile(output, GgufFile.Open(output), notes);
    }

    [Fact]
    public void Stories260KInF32HoldsEveryFloatOfTheFile()
    {
        using var tmp = TestData.NewTempFolder();
        string input = Shared("stories260K", "stories260K.bin");
        var model = Llama2cModel.Load(input);
        var c = model.Config;
        using var result = Convert(input, tmp.File("stories260K.gguf"), new ConversionOptions { WeightType = GgmlType.F32, TokenEmbeddingType = GgmlType.F32 });
        var file = result.File;
        var m = file.Metadata;
        Assert.Equal("llama", m.GetString("general.architecture"));
        Assert.Equal("stories260K", m.GetString("general.name"));
        Assert.Equal(0u, m.GetUInt32("general.file_type"));
        Assert.Equal((uint)c.Dim, m.GetUInt32("llama.embedding_length"));
        Assert.Equal((uint)c.HiddenDim, m.GetUInt32("llama.feed_forward_length"));
        Assert.Equal((uint)c.NLayers, m.GetUInt32("llama.block_count"));
        Assert.Equal((uint)c.NHeads, m.GetUInt32("llama.attention.head_count"));
        Assert.Equal((uint)c.NKvHeads, m.GetUInt32("llama.attention.head_count_kv"));
        Assert.Equal((uint)c.SeqLen, m.GetUInt32("llama.context_length"));
        Assert.Equal((uint)(c.Dim / c.NHeads), m.GetUInt32("llama.rope.dimension_count"));
        Assert.Equal("llama", m.GetString("tokenizer.ggml.model"));
        Assert.Equal(512, m.GetArray<string>("tokenizer.ggml.tokens").Length);

        void Same(string name, float[] values, params long[] shape) =>
            Assert.True(values.AsSpan().SequenceEqual(GgufReads.Floats(file, GgufReads.Tensor(file, name, GgmlType.F32, shape))), $"{name} differs from the file's floats");

        // Shared classifier: no output.weight. llama2.c's RoPE is GGUF llama's (adjacent pairs): q/k rows as in the file.
        var expectedNames = new List<string> { "token_embd.weight", "output_norm.weight" };
        Same("token_embd.weight", model.TokenEmbedding.Values, c.Dim, c.VocabSize);
        Same("output_norm.weight", model.RmsFinalWeight, c.Dim);
        for (int l = 0; l < c.NLayers; l++)
        {
            var layer = model.Layers[l];
            string p = $"blk.{l}.";
            Same(p + "attn_norm.weight", layer.RmsAttWeight, c.Dim);
            Same(p + "attn_q.weight", layer.Wq.Values, c.Dim, c.Dim);
            Same(p + "attn_k.weight", layer.Wk.Values, c.Dim, c.KvDim);
            Same(p + "attn_v.weight", layer.Wv.Values, c.Dim, c.KvDim);
            Same(p + "attn_output.weight", layer.Wo.Values, c.Dim, c.Dim);
            Same(p + "ffn_norm.weight", layer.RmsFfnWeight, c.Dim);
            Same(p + "ffn_gate.weight", layer.W1.Values, c.Dim, c.HiddenDim);
            Same(p + "ffn_down.weight", layer.W2.Values, c.HiddenDim, c.Dim);
            Same(p + "ffn_up.weight", layer.W3.Values, c.Dim, c.HiddenDim);
            expectedNames.AddRange(new[] { "attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_down", "ffn_up" }.Select(n => $"{p}{n}.weight"));
        }

        Assert.Equal(expectedNames.Order(StringComparer.Ordinal), file.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void BothBitOrdersGiveTheSameFile()
    {
        using var tmp = TestData.NewTempFolder();
        var options = new ConversionOptions { WeightType = GgmlType.I2_S, Name = "bit_model_3M" };
        string msb = tmp.File("msb.gguf"), lsb = tmp.File("lsb.gguf");
        using (Convert(Shared("bitllama2c", "bit_model_3M.bin"), msb, options))
        using (Convert(Shared("bitllama2c", "bit_model_3M_lsb.bin"), lsb, options, new ModelSourceOptions { BitOrder = BitOrder.LsbFirst }))
        {
            var a = File.ReadAllBytes(msb);
            var b = File.ReadAllBytes(lsb);
            Assert.True(a.AsSpan().SequenceEqual(b), $"the MSB and LSB files differ ({a.Length} and {b.Length} bytes, first at byte {a.AsSpan().CommonPrefixLength(b)})");
        }
    }

    [Theory]
    [InlineData(GgmlType.I2_S)]
    [InlineData(GgmlType.TQ1_0)]
    public void TernaryValuesAreCarriedExactlyWithQkInNeoxOrder(GgmlType type)
    {
        using var tmp = TestData.NewTempFolder();
        string input = Shared("bitllama2c", "bit_model_3M.bin");
        var model = BitLlama2cModel.Load(input);
        var c = model.Config;
        using var result = Convert(input, tmp.File("bit.gguf"), new ConversionOptions { WeightType = type });
        var file = result.File;
        Assert.Equal("bitnet", file.Metadata.GetString("general.architecture"));
        Assert.Equal(SyntheticModel.FileType(type), file.Metadata.GetUInt32("general.file_type"));

        for (int l = 0; l < c.NLayers; l++)
        {
            var layer = model.Layers[l];
            string p = $"blk.{l}.";
            // V, O and the FFN keep their rows; Q and K are reordered within each head.
            foreach (var (name, matrix) in new[] { ("attn_v", layer.Wv), ("attn_output", layer.Wo), ("ffn_gate", layer.W1), ("ffn_down", layer.W2), ("ffn_up", layer.W3) })
            {
                var t = GgufReads.Tensor(file, p + name + ".weight", type, matrix.Cols, matrix.Rows);
                GgufReads.AssertTernary(GgufReads.Ternary(file, t), matrix.Values, matrix.Scale, type, t.Name);
            }

            foreach (var (name, matrix, heads) in new[] { ("attn_q", layer.Wq, c.NHeads), ("attn_k", layer.Wk, c.NKvHeads) })
            {
                var t = GgufReads.Tensor(file, p + name + ".weight", type, matrix.Cols, matrix.Rows);
                GgufReads.AssertTernary(GgufReads.Ternary(file, t), NeoxOrder(matrix, heads), matrix.Scale, type, t.Name);
            }
        }
    }

    /// <summary>
    /// Adjacent-pair RoPE rows (2i, 2i+1) → NEOX rows (i, i + hd/2): within each head, row t·(hd/2) + i of the result
    /// is source row 2i + t.
    /// </summary>
    private static sbyte[] NeoxOrder(TernaryMatrix w, int heads)
    {
        int hd = w.Rows / heads;
        var result = new sbyte[w.Values.Length];
        for (int h = 0; h < heads; h++)
        {
            for (int t = 0; t < 2; t++)
            {
                for (int i = 0; i < hd / 2; i++)
                    w.Row((h * hd) + (2 * i) + t).CopyTo(result.AsSpan(((h * hd) + (t * (hd / 2)) + i) * w.Cols, w.Cols));
            }
        }

        return result;
    }

    [Fact]
    public void TheExpectedNeoxOrderIsTheOneSpelledOut()
    {
        // Guards the expectation: 2 heads of 32 rows, each row naming its index in base-3 digits. Within a head,
        // GGUF rows 0, 1 … 15, 16, 17 … 31 come from rows 0, 2 … 30, 1, 3 … 31.
        var values = new sbyte[64 * 4];
        for (int r = 0; r < 64; r++)
        {
            for (int d = 0, x = r; d < 4; d++, x /= 3)
                values[(r * 4) + d] = (sbyte)((x % 3) - 1);
        }

        var reordered = NeoxOrder(new TernaryMatrix(64, 4, values, 1f), 2);
        var sources = Enumerable.Range(0, 64).Select(k => Enumerable.Range(0, 4).Reverse().Aggregate(0, (x, d) => (x * 3) + reordered[(k * 4) + d] + 1));
        var head = Enumerable.Range(0, 16).Select(i => 2 * i).Concat(Enumerable.Range(0, 16).Select(i => (2 * i) + 1)).ToList();
        Assert.Equal(head.Concat(head.Select(r => r + 32)), sources);
    }

    [Fact]
    public void Model1MCannotBeTq2_0()
    {
        using var tmp = TestData.NewTempFolder();
        using var source = ModelSources.Open(Shared("bitllama2c", "bit_model_1M.bin"));
        var e = Assert.Throws<InvalidDataException>(() => GgufReads.Convert(source, tmp.File("out.gguf"), new ConversionOptions { WeightType = GgmlType.TQ2_0 }));
        Assert.Contains("'blk.0.attn_q.weight'", e.Message, StringComparison.Ordinal);
        Assert.Contains("256", e.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(tmp.Path));
    }
}
