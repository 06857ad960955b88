namespace Tern.Tests;

/// <summary>Locates the repository root and ../shared/data, wherever the test runner's working directory is.</summary>
internal static class TestData
{
    private static readonly Lazy<string> Root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Tern.slnx")))
                return dir.FullName;
        }

        throw new InvalidOperationException("cannot find the repository root (a folder with Tern.slnx) above " + AppContext.BaseDirectory);
    });

    public static string RepoRoot => Root.Value;

    public static string SharedDataPath(params string[] parts) =>
        Path.GetFullPath(Path.Combine([RepoRoot, "..", "shared", "data", .. parts]));
}
