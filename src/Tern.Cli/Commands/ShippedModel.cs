namespace Tern.Cli.Commands;

/// <summary>
/// The small BitNet b1.58 model Tern trained itself and ships (models/ in the repository, copied beside the binary),
/// which `run` and `chat` use when no -m is given, so they work on a machine with nothing downloaded.
/// </summary>
internal static class ShippedModel
{
    public const string FileName = "shakespeare-bitnet-b1.58-3M.gguf";

    public const string OptionDescription = "The GGUF model (default: the BitNet b1.58 tinyshakespeare model Tern ships, " + FileName + ").";

    public static string PathBesideBinary => Path.Combine(AppContext.BaseDirectory, "models", FileName);

    public static string Resolve(FileInfo? given)
    {
        if (given is not null)
            return given.FullName;
        return File.Exists(PathBesideBinary)
            ? PathBesideBinary
            : throw new FileNotFoundException($"no -m given, and the model Tern ships is not at {PathBesideBinary}; pass a GGUF file with -m");
    }
}
