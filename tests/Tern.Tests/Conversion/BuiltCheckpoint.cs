using Tern.Conversion;
using Tern.Gguf;

namespace Tern.Tests.Conversion;

/// <summary>
/// A class fixture: one synthetic Hugging Face folder, written and opened once for all tests of a class (the
/// Llama 3 tokenizer and a 128,256-row embedding make it the slow part), converted by each test to its own file.
/// </summary>
public abstract class BuiltCheckpoint : IDisposable
{
    private readonly TempFolder _temp = TestData.NewTempFolder();

    private protected BuiltCheckpoint(string folderName, string configJson, ModelDims dims, SyntheticOptions options, Action<HfTestCheckpoint> addTokenizer, int shards = 1)
    {
        Folder = Directory.CreateDirectory(_temp.File(folderName)).FullName;
        var checkpoint = new HfTestCheckpoint(Folder) { ConfigJson = configJson };
        Model = SyntheticModel.Build(checkpoint, dims, options);
        addTokenizer(checkpoint);
        checkpoint.Write(shards);
        Source = ModelSources.Open(Folder);
    }

    public string Folder { get; }

    internal SyntheticModel Model { get; }

    public IModelSource Source { get; }

    /// <summary>Converts the source to a file beside the checkpoint folder, deleted when the result is disposed.</summary>
    internal ConvertedFile Convert(ConversionOptions options, string name)
    {
        string path = _temp.File(name);
        var notes = GgufReads.Convert(Source, path, options);
        return new ConvertedFile(path, GgufFile.Open(path), notes);
    }

    public void Dispose()
    {
        Source.Dispose();
        _temp.Dispose();
    }
}

/// <summary>A converted GGUF file, open for reading; disposing closes and deletes it.</summary>
internal sealed class ConvertedFile(string path, GgufFile file, IReadOnlyList<string> notes) : IDisposable
{
    public GgufFile File { get; } = file;

    public GgufMetadata Metadata => File.Metadata;

    public IReadOnlyList<string> Notes { get; } = notes;

    public void Dispose()
    {
        File.Dispose();
        System.IO.File.Delete(path);
    }
}
