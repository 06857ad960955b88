using Tern.Formats;

namespace Tern.Tests.Formats;

public class SafetensorsCheckpointTests
{
    private static void WriteIndex(string dir, params (string Tensor, string Shard)[] map)
    {
        var entries = string.Join(",\n    ", map.Select(m => $"\"{m.Tensor}\": \"{m.Shard}\""));
        File.WriteAllText(Path.Combine(dir, SafetensorsCheckpoint.IndexFileName),
            $"{{\n  \"metadata\": {{ \"total_size\": 123 }},\n  \"weight_map\": {{\n    {entries}\n  }}\n}}\n");
    }

    [Fact]
    public void OpensASingleFileFolder()
    {
        using var tmp = TestData.NewTempFolder();
        new SafetensorsWriter()
            .Add("model.layers.10.w", [1f], [1])
            .Add("model.layers.2.w", [2f], [1])
            .Add("model.embed_tokens.weight", [3f, 4f], [2, 1])
            .Write(tmp.File("model.safetensors"));

        using var ckpt = SafetensorsCheckpoint.Open(tmp.Path);
        Assert.Single(ckpt.Files);
        Assert.Equal(["model.embed_tokens.weight", "model.layers.2.w", "model.layers.10.w"], ckpt.TensorNames);
        Assert.Equal([3f, 4f], ckpt.GetTensor("model.embed_tokens.weight").ReadAllAsFloat());
        Assert.False(ckpt.Contains("lm_head.weight"));
        Assert.Throws<KeyNotFoundException>(() => ckpt.GetTensor("lm_head.weight"));
    }

    [Fact]
    public void OpensAShardedFolderThroughItsIndex()
    {
        using var tmp = TestData.NewTempFolder();
        new SafetensorsWriter().Add("a", [1f, 2f], [2]).Add("b", [3f], [1], SafetensorsDType.BF16)
            .Write(tmp.File("model-00001-of-00002.safetensors"));
        new SafetensorsWriter().Add("c", [5f, 6f, 7f, 8f], [2, 2], SafetensorsDType.F16).Add("unlisted", [0f], [1])
            .Write(tmp.File("model-00002-of-00002.safetensors"));
        WriteIndex(tmp.Path, ("c", "model-00002-of-00002.safetensors"), ("a", "model-00001-of-00002.safetensors"),
            ("b", "model-00001-of-00002.safetensors"));

        using var ckpt = SafetensorsCheckpoint.Open(tmp.Path);
        Assert.Equal(2, ckpt.Files.Count);
        Assert.EndsWith("model-00001-of-00002.safetensors", ckpt.Files[0].Path, StringComparison.Ordinal);
        // The index is the list of weights; a tensor a shard holds but the index does not name is not one of them.
        Assert.Equal(["a", "b", "c"], ckpt.TensorNames);
        Assert.Equal("123", ckpt.Metadata["total_size"]);
        var c = ckpt.GetTensor("c");
        Assert.Same(ckpt.Files[1], c.File);
        var row = new float[2];
        c.ReadRowsAsFloat(1, 1, row);
        Assert.Equal([7f, 8f], row);
        Assert.Equal([3f], ckpt.GetTensor("b").ReadAllAsFloat());
    }

    [Fact]
    public void AnIndexNamingAMissingShardIsRefused()
    {
        using var tmp = TestData.NewTempFolder();
        new SafetensorsWriter().Add("a", [1f], [1]).Write(tmp.File("s1.safetensors"));
        WriteIndex(tmp.Path, ("a", "s1.safetensors"), ("b", "s2.safetensors"));
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsCheckpoint.Open(tmp.Path).Dispose());
        Assert.Contains(SafetensorsCheckpoint.IndexFileName, e.Message, StringComparison.Ordinal);
        Assert.Contains("'s2.safetensors'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnIndexNamingATensorItsShardLacksIsRefused()
    {
        using var tmp = TestData.NewTempFolder();
        new SafetensorsWriter().Add("a", [1f], [1]).Write(tmp.File("s1.safetensors"));
        WriteIndex(tmp.Path, ("a", "s1.safetensors"), ("ghost", "s1.safetensors"));
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsCheckpoint.Open(tmp.Path).Dispose());
        Assert.Contains("'ghost'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'s1.safetensors'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("../outside.safetensors")]
    [InlineData("sub/s1.safetensors")]
    public void AnIndexMayNameOnlyFilesInTheFolder(string shard)
    {
        using var tmp = TestData.NewTempFolder();
        WriteIndex(tmp.Path, ("a", shard));
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsCheckpoint.Open(tmp.Path).Dispose());
        Assert.Contains("weight_map.a", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AFolderWithoutWeightsIsRefused()
    {
        using var tmp = TestData.NewTempFolder();
        var e = Assert.Throws<FileNotFoundException>(() => SafetensorsCheckpoint.Open(tmp.Path).Dispose());
        Assert.Contains(tmp.Path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NaturalOrderComparesDigitRunsAsNumbers()
    {
        string[] names = ["layers.10.a", "layers.9.b", "layers.1.a", "layers.01.a", "a", "layers.2"];
        Array.Sort(names, NaturalStringComparer.Instance);
        Assert.Equal(["a", "layers.01.a", "layers.1.a", "layers.2", "layers.9.b", "layers.10.a"], names);
    }
}
