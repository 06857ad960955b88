using Tern.Conversion.Tokenizers;

namespace Tern.Tests.Tokenizers;

public sealed class TiktokenModelReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tern-tik-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string text)
    {
        string path = Path.Combine(_dir, "tokenizer.model");
        File.WriteAllText(path, text);
        return path;
    }

    [Theory]
    [InlineData("IQ== 0\nIg== x\n", "line 2")]
    [InlineData("IQ== 0\n!!!! 1\n", "base64")]
    [InlineData("IQ== 0\nIg== 2\n", "rank 1")]
    [InlineData("IQ== 0\nIQ== 1\n", "twice")]
    [InlineData("", "no ranks")]
    public void Malformed_FailsNamingFileAndProblem(string text, string expected)
    {
        string path = Write(text);
        var e = Assert.Throws<InvalidDataException>(() => TiktokenModelReader.Read(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SmallFile_WithoutSpecialTokens_SaysSo()
    {
        // "a", "b", "ab" as base64.
        var data = TiktokenModelReader.Read(Write("YQ== 0\nYg== 1\nYWI= 2\n"));
        Assert.Equal(["a", "b", "ab"], data.Tokens);
        Assert.Equal(["a b"], data.Merges!);
        Assert.Equal("default", data.Pre);
        Assert.NotEmpty(data.Warnings);
    }
}
