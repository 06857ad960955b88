using Tern.Conversion;
using Tern.Formats;
using Tern.Gguf;

namespace Tern.Tests.Conversion;

/// <summary>
/// Projections bigger than the converter's chunk of 4 Mi elements: γ must still be the mean over the whole tensor and
/// the chunks' encodings must join into one tensor (I2_S's single scale written once, after all packed codes).
/// gate/up are [16640, 256] (split by rows), down is [256, 16640] (rows of 16640, split after 252 rows).
/// </summary>
public sealed class ChunkedTensorTests(ChunkedTensorTests.Big model) : IClassFixture<ChunkedTensorTests.Big>
{
    public sealed class Big() : BuiltCheckpoint(
        "big-ffn",
        """
        {"architectures":["BitNetForCausalLM"],"bos_token_id":1,"eos_token_id":2,"hidden_act":"relu2","hidden_size":256,"intermediate_size":16640,"max_position_embeddings":512,"model_type":"bitnet","rms_norm_eps":1e-05,"num_attention_heads":4,"num_hidden_layers":1,"num_key_value_heads":2,"rope_theta":10000.0,"tie_word_embeddings":true,"torch_dtype":"bfloat16","vocab_size":512,"quantization_config":{"quant_method":"bitnet","linear_class":"autobitlinear","quantization_mode":"online"}}
        """,
        new ModelDims(Hidden: 256, Intermediate: 16640, Layers: 1, Heads: 4, KvHeads: 2, Vocab: 512, HeadDim: 64),
        new SyntheticOptions
        {
            FloatType = SafetensorsDType.BF16,
            Storage = ProjectionStorage.Masters,
            AttentionSubNorm = "self_attn.attn_sub_norm",
            FfnSubNorm = "mlp.ffn_sub_norm",
            Seed = 16640,
        },
        c => c.CopyShared("tokenizer.model", "models", "bitllama2c", "tok512.model"));

    [Theory]
    [InlineData(GgmlType.I2_S)]
    [InlineData(GgmlType.TQ2_0)]
    public void TensorsLargerThanAChunkConvertAsOne(GgmlType type)
    {
        Assert.True(256L * 16640 > 4 << 20);
        var options = new ConversionOptions { WeightType = type };
        using var result = model.Convert(options, "big.gguf");
        model.Model.AssertTensors(result.File, options, withOutput: false, withRopeFreqs: false);
    }
}
