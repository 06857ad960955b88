namespace Tern.Cli.Commands;

internal static class OutputPaths
{
    /// <summary>
    /// Checks before any work that the output's folder exists: otherwise the writer fails only at the end, naming
    /// its hidden temporary file instead of the folder the user typed.
    /// </summary>
    public static string Require(FileInfo output)
    {
        if (output.Directory is { Exists: false } folder)
            throw new DirectoryNotFoundException($"{output.FullName}: folder {folder.FullName} does not exist");
        if (Directory.Exists(output.FullName))
            throw new IOException($"{output.FullName}: is a folder; name the output file");
        return output.FullName;
    }
}
