using System.Text.Json;

namespace Tern.Tests.Cli;

/// <summary>`tern info` on the real llama.cpp-written fixture (F16, TQ2_0, TQ1_0, F32 tensors).</summary>
public class InfoCommandTests
{
    private static readonly string Fixture = TestData.SharedDataPath("fixtures", "bitnet_tiny_tq.gguf");

    [Fact]
    public void JsonDescribesTheFixture()
    {
        var result = TernProcess.Run("info", Fixture, "--json");
        CliAssert.Succeeded(result);
        Assert.Empty(result.Stderr);

        using var json = JsonDocument.Parse(result.Stdout);
        var root = json.RootElement;
        Assert.Equal("bitnet", root.GetProperty("architecture").GetString());
        Assert.Equal(3, root.GetProperty("gguf_version").GetInt32());
        Assert.Equal(new FileInfo(Fixture).Length, root.GetProperty("file_size").GetInt64());

        var tensors = root.GetProperty("tensors").EnumerateArray().ToList();
        Assert.Equal(4, tensors.Count);
        AssertTensor(tensors[0], "token_embd.weight", "F16", [256, 32], 16384);
        AssertTensor(tensors[1], "blk.0.attn_q.weight", "TQ2_0", [256, 8], 528);
        AssertTensor(tensors[2], "blk.0.ffn_down.weight", "TQ1_0", [256, 4], 216);
        AssertTensor(tensors[3], "output_norm.weight", "F32", [256], 1024);

        var parameters = root.GetProperty("parameters");
        Assert.Equal(3072, parameters.GetProperty("ternary").GetInt64());
        Assert.Equal(8448, parameters.GetProperty("other").GetInt64());
        Assert.Equal(11520, parameters.GetProperty("total").GetInt64());

        var metadata = root.GetProperty("metadata");
        Assert.Equal("bitnet", metadata.GetProperty("general.architecture").GetString());
        Assert.Equal(1, metadata.GetProperty("bitnet.block_count").GetInt32());
        Assert.Equal(256, metadata.GetProperty("bitnet.embedding_length").GetInt32());
        Assert.Equal(4, metadata.GetProperty("bitnet.attention.head_count").GetInt32());
        Assert.Equal(2, metadata.GetProperty("bitnet.attention.head_count_kv").GetInt32());
        Assert.Equal(64, metadata.GetProperty("bitnet.feed_forward_length").GetInt32());
        Assert.Equal(4096, metadata.GetProperty("bitnet.context_length").GetInt32());
        Assert.Equal(500000.0, metadata.GetProperty("bitnet.rope.freq_base").GetDouble());
        // Written from a float32: the JSON holds the float's shortest form, which is 1e-5 as a double too.
        Assert.Equal(1e-5, metadata.GetProperty("bitnet.attention.layer_norm_rms_epsilon").GetDouble(), 1e-12);
    }

    [Fact]
    public void TablesNameEveryTensorAndType()
    {
        var result = TernProcess.Run("info", Fixture);
        CliAssert.Succeeded(result);
        foreach (var name in new[] { "token_embd.weight", "blk.0.attn_q.weight", "blk.0.ffn_down.weight", "output_norm.weight" })
            Assert.Contains(name, result.Stdout, StringComparison.Ordinal);
        Assert.Contains("TQ2_0", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("TQ1_0", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("bitnet", result.Stdout, StringComparison.Ordinal);
    }

    private static void AssertTensor(JsonElement tensor, string name, string type, long[] shape, long bytes)
    {
        Assert.Equal(name, tensor.GetProperty("name").GetString());
        Assert.Equal(type, tensor.GetProperty("type").GetString());
        Assert.Equal(shape, tensor.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray());
        Assert.Equal(bytes, tensor.GetProperty("bytes").GetInt64());
    }
}
