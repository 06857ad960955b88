using Spectre.Console;

namespace Tern.Cli.Commands;

/// <summary>
/// Turns the errors that bad input produces into one line on stderr and exit code 1; anything else is a bug and
/// keeps its stack trace.
/// </summary>
internal static class CommandErrors
{
    public const int BadInput = 1;

    public static int Run(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (IsUserError(e))
        {
            Consoles.CreateStderr().MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
            return BadInput;
        }
    }

    private static bool IsUserError(Exception e) => e is InvalidDataException or FileNotFoundException or DirectoryNotFoundException
        or UnauthorizedAccessException or FormatException or IOException or ArgumentException or KeyNotFoundException or NotSupportedException;
}
