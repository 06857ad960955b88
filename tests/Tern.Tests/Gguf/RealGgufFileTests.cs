using Tern.Gguf;

namespace Tern.Tests.Gguf;

/// <summary>
/// Files written by llama.cpp's own tools. Expected values were read with an independent 30-line Python parser of
/// the GGUF spec (offsets: header ends at 630, data at 640; sizes 256·32·2, 8·66, 4·54, 256·4).
/// </summary>
public class RealGgufFileTests
{
    [Fact]
    public void ReadsTheBitnetTinyFixtureWrittenByGgufPy()
    {
        using var file = GgufFile.Open(TestData.SharedDataPath("fixtures", "bitnet_tiny_tq.gguf"));
        Assert.Equal(3, file.Version);
        Assert.Equal("bitnet", file.Metadata.Architecture);
        Assert.Equal(9, file.Metadata.Count);
        Assert.Equal(1u, file.Metadata.GetUInt32("bitnet.block_count"));
        Assert.Equal(256u, file.Metadata.GetUInt32("bitnet.embedding_length"));
        Assert.Equal(500000f, file.Metadata.GetSingle("bitnet.rope.freq_base"));
        Assert.Equal(1e-5f, file.Metadata.GetSingle("bitnet.attention.layer_norm_rms_epsilon"));
        Assert.Equal(640, file.DataOffset);

        (string Name, GgmlType Type, long[] Shape, ulong Offset, long Bytes)[] expected =
        [
            ("token_embd.weight", GgmlType.F16, [256, 32], 0, 16384),
            ("blk.0.attn_q.weight", GgmlType.TQ2_0, [256, 8], 16384, 528),
            ("blk.0.ffn_down.weight", GgmlType.TQ1_0, [256, 4], 16928, 216),
            ("output_norm.weight", GgmlType.F32, [256], 17152, 1024),
        ];
        Assert.Equal(expected.Length, file.Tensors.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            var t = file.Tensors[i];
            Assert.Equal(expected[i].Name, t.Name);
            Assert.Equal(expected[i].Type, t.Type);
            Assert.Equal(expected[i].Shape, t.Shape);
            Assert.Equal(expected[i].Offset, t.Offset);
            Assert.Equal(expected[i].Bytes, t.ByteSize);
        }

        Assert.False(file.UsesAmbiguousTypeIds);
        Assert.Equal(file.FileLength, file.DataOffset + 17152 + 1024);
    }

    [Fact]
    public void ReadsTheLlamaSpmVocabularyFile()
    {
        using var file = GgufFile.Open(TestData.SharedDataPath("tokenizers", "tests", "ggml-vocab-llama-spm.gguf"));
        Assert.Equal(3, file.Version);
        Assert.Empty(file.Tensors);
        Assert.Equal(22, file.Metadata.Count);
        Assert.Equal("llama", file.Metadata.Architecture);
        Assert.Equal("llama", file.Metadata.GetString(GgufKeys.TokenizerModel));
        var tokens = file.Metadata.GetArray<string>(GgufKeys.TokenizerTokens);
        Assert.Equal(32000, tokens.Length);
        Assert.Equal(["<unk>", "<s>", "</s>", "<0x00>", "<0x01>"], tokens[..5]);
        var types = file.Metadata.GetArray<int>(GgufKeys.TokenizerTokenType);
        Assert.Equal([2, 3, 3, 6, 6], types[..5]);
        Assert.Equal(32000, file.Metadata.GetArray<float>(GgufKeys.TokenizerScores).Length);
        Assert.Equal(1u, file.Metadata.GetUInt32(GgufKeys.TokenizerBosId));
        Assert.True(file.Metadata.GetBool(GgufKeys.TokenizerAddBos));
        Assert.False(file.Metadata.GetBool(GgufKeys.TokenizerAddEos));
        Assert.Equal(4096u, file.Metadata.GetUInt32("llama.embedding_length"));
    }

    [Fact]
    public void CopyingTheFixtureThroughTheWriterReproducesItByteForByte()
    {
        // gguf-py and Tern pad the same way, so a metadata+tensor copy must be identical: the writer is checked
        // against llama.cpp's writer, not against the reader.
        string source = TestData.SharedDataPath("fixtures", "bitnet_tiny_tq.gguf");
        using var dir = new TempFolder();
        using (var file = GgufFile.Open(source))
        {
            var writer = new GgufWriter(file.Metadata);
            foreach (var t in file.Tensors)
                writer.AddTensor(t.Name, t.Type, t.Shape, file.GetTensorData(t).ToArray());
            writer.Write(dir.File("copy.gguf"));
        }

        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(dir.File("copy.gguf")));
    }
}
