using Tern.Conversion.Tokenizers;

namespace Tern.Tests.Tokenizers;

/// <summary>llama2.c's tok512.bin was exported from tok512.model; reading it back must give the .model's
/// vocabulary exactly.</summary>
public class Llama2cTokenizerReaderTests
{
    public static TheoryData<string> BinFiles => new() { TestData.Tok512Bin, TestData.Stories260KTok512Bin };

    [Theory]
    [MemberData(nameof(BinFiles))]
    public void Tok512Bin_EqualsTok512Model(string bin)
    {
        var fromModel = SentencePieceModelReader.Read(TestData.Tok512Model);
        var fromBin = Llama2cTokenizerReader.Read(bin, vocabSize: 512);

        Assert.Equal(fromModel.Tokens, fromBin.Tokens);
        Assert.Equal(fromModel.Scores!.Select(BitConverter.SingleToInt32Bits), fromBin.Scores!.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(fromModel.TokenTypes, fromBin.TokenTypes);
        Assert.Equal((fromModel.UnknownId, fromModel.BosId, fromModel.EosId), (fromBin.UnknownId, fromBin.BosId, fromBin.EosId));
        Assert.Equal((fromModel.Model, fromModel.Pre, fromModel.AddSpacePrefix), (fromBin.Model, fromBin.Pre, fromBin.AddSpacePrefix));
    }

    [Fact]
    public void WithoutVocabSize_ReadsToTheEnd()
    {
        Assert.Equal(512, Llama2cTokenizerReader.Read(TestData.Tok512Bin).Tokens.Length);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(10)]
    [InlineData(6000)]
    public void Truncated_FailsNamingTheFile(int keep)
    {
        byte[] bytes = File.ReadAllBytes(TestData.Tok512Bin);
        var e = Assert.Throws<InvalidDataException>(() => Llama2cTokenizerReader.Parse(bytes.AsSpan(0, keep), "cut.bin", 512));
        Assert.Contains("cut.bin", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MoreTokensAsked_ThanTheFileHolds_Fails()
    {
        var e = Assert.Throws<InvalidDataException>(() => Llama2cTokenizerReader.Read(TestData.Tok512Bin, vocabSize: 513));
        Assert.Contains("expected 513", e.Message, StringComparison.Ordinal);
    }
}
