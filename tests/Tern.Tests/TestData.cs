namespace Tern.Tests;

/// <summary>
/// Where the repository and the shared real test material are. Tests run with their working directory under
/// bin/, so the root is found by walking up to the folder that holds Tern.slnx; shared data sits beside it
/// (../shared/data, see shared/data/README.md).
/// </summary>
public static class TestData
{
    private static readonly Lazy<string> Root = new(FindRepoRoot);

    public static string RepoRoot => Root.Value;

    /// <summary>A path under ../shared/data, e.g. SharedDataPath("models", "stories260K", "stories260K.bin").</summary>
    public static string SharedDataPath(params string[] parts) =>
        Path.GetFullPath(Path.Combine([RepoRoot, "..", "shared", "data", .. parts]));

    /// <summary>The model the repository ships (models/), the default of `tern run` and `tern chat`.</summary>
    public static string ShippedModelPath => Path.Combine(RepoRoot, "models", "shakespeare-bitnet-b1.58-3M.gguf");

    /// <summary>A fresh empty folder under the system temp folder, deleted when the returned object is disposed.</summary>
    public static TempFolder NewTempFolder() => new();

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Tern.slnx")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"no Tern.slnx above {AppContext.BaseDirectory}; tests must run inside the repository");
    }
}

public sealed class TempFolder : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "tern-test-" + Guid.NewGuid().ToString("N")[..12]);

    public TempFolder() => Directory.CreateDirectory(Path);

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
