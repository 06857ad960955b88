using Tern.Conversion;
using Tern.Gguf;
using Tern.Inference;
using Tern.Models;
using Tern.Quantization;

namespace Tern.Tests.Inference;

public class ReferenceEngineTests
{
    [Fact]
    public void BitLinearFollowsDesignMdWorkedByHand()
    {
        // W̃ = [[1, −1], [1, 0]], γ = 0.4 (DESIGN.md's example); x = [0.5, −1.0].
        // s = 127 / max|x| = 127; x·s = [63.5, −127] → q = [64, −127] (63.5 rounds half to even: 64).
        // W̃·q = [64 + 127, 64] = [191, 64]; y = (W̃·q)·γ/s = [191·0.4/127, 64·0.4/127].
        var w = new TernaryWeightMatrix("w", 2, 2, new TernaryTensor([1, -1, 1, 0], [0.4f], 4));
        var y = new float[2];
        w.Multiply([0.5f, -1.0f], y);
        Assert.Equal(191 * 0.4f / 127f, y[0], 6);
        Assert.Equal(64 * 0.4f / 127f, y[1], 6);
    }

    [Fact]
    public void PerBlockScalesOfTqFilesAreApplied()
    {
        // Two blocks of 256 with different scales in one row (a TQ file from another tool): each block's integer sum
        // is scaled by its own d.
        var values = new sbyte[512];
        values[0] = 1;
        values[256] = 1;
        var w = new TernaryWeightMatrix("w", 1, 512, new TernaryTensor(values, [0.5f, 2f], 256));
        var x = new float[512];
        x[0] = 1f;
        x[256] = 1f;
        var y = new float[1];
        w.Multiply(x, y);
        // s = 127; q = 127 at both places; y = (127·0.5 + 127·2)/127 = 2.5.
        Assert.Equal(2.5f, y[0], 6);
    }

    [Fact]
    public void AMissingTensorAndAMissingKeyAreNamed()
    {
        using var dir = TestData.NewTempFolder();
        string good = dir.File("m.gguf");
        using (var source = ModelSources.Open(TestData.SharedDataPath("models", "stories260K", "stories260K.bin")))
            ModelConverter.Write(ModelConverter.Plan(source, new ConversionOptions { WeightType = GgmlType.F32 }), good);

        using (var file = GgufFile.Open(good))
        {
            var withoutTensor = new GgufWriter(file.Metadata);
            foreach (var t in file.Tensors.Where(t => t.Name != "blk.3.ffn_up.weight"))
                withoutTensor.AddTensor(t.Name, t.Type, t.Shape, file.GetTensorData(t).ToArray());
            withoutTensor.Write(dir.File("no-tensor.gguf"));

            var metadata = new GgufMetadata();
            foreach (var (k, v) in file.Metadata.Where(kv => kv.Key != "llama.block_count"))
                metadata.Add(k, v);
            var withoutKey = new GgufWriter(metadata);
            foreach (var t in file.Tensors)
                withoutKey.AddTensor(t.Name, t.Type, t.Shape, file.GetTensorData(t).ToArray());
            withoutKey.Write(dir.File("no-key.gguf"));
        }

        var e = Assert.Throws<InvalidDataException>(() => TernModel.Load(dir.File("no-tensor.gguf")));
        Assert.Contains("blk.3.ffn_up.weight", e.Message);
        e = Assert.Throws<InvalidDataException>(() => TernModel.Load(dir.File("no-key.gguf")));
        Assert.Contains("llama.block_count", e.Message);

        using var model = TernModel.Load(good);
        var session = model.CreateSession(2);
        session.Evaluate(1);
        session.Evaluate(2);
        Assert.Throws<InvalidOperationException>(() => session.Evaluate(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.CreateSession(model.Config.ContextLength + 1));
    }

    [Fact]
    public void UnsupportedArchitecturesAreNamed()
    {
        using var dir = TestData.NewTempFolder();
        var m = new GgufMetadata();
        m.Set(GgufKeys.Architecture, "gpt2");
        new GgufWriter(m).Write(dir.File("gpt2.gguf"));
        var e = Assert.Throws<NotSupportedException>(() => TernModel.Load(dir.File("gpt2.gguf")));
        Assert.Contains("'gpt2'", e.Message);
    }
}

public class StableSoftMaxTests
{
    [Fact]
    public void LargeScoresDoNotOverflow()
    {
        // TensorPrimitives.SoftMax gives NaN, NaN, 0 here; e^(1000−1000) = 1 and e^(999−1000) = e^−1.
        float[] s = [1000f, 999f, 10f];
        Tern.Models.StableSoftMax.InPlace(s);
        float e = MathF.Exp(-1f);
        Assert.Equal(1f / (1f + e), s[0], 6);
        Assert.Equal(e / (1f + e), s[1], 6);
        Assert.Equal(0f, s[2]);
    }
}
