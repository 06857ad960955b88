using Tern.Conversion.Tokenizers;

namespace Tern.Tests.Tokenizers;

public sealed class TokenizerSourceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tern-src-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void SentencePieceModel_IsRecognizedByContent()
    {
        File.CreateSymbolicLink(Path.Combine(_dir, "tokenizer.model"), TestData.Llama2Model);
        var source = TokenizerSource.Detect(_dir);
        Assert.Equal(TokenizerSourceKind.SentencePiece, source.Kind);
        Assert.Null(source.ConfigPath);
        Assert.Equal(32_000, source.Load().Tokens.Length);
    }

    [Fact]
    public void EmptyFolder_FailsNamingIt()
    {
        var e = Assert.Throws<FileNotFoundException>(() => TokenizerSource.Detect(_dir));
        Assert.Contains(_dir, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFolder_FailsNamingIt()
    {
        string missing = Path.Combine(_dir, "nope");
        var e = Assert.Throws<DirectoryNotFoundException>(() => TokenizerSource.Detect(missing));
        Assert.Contains(missing, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnrecognizedModelFile_FailsNamingIt()
    {
        string path = Path.Combine(_dir, "tokenizer.model");
        File.WriteAllText(path, "hello world\n");
        var e = Assert.Throws<InvalidDataException>(() => TokenizerSource.Detect(_dir));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }
}
