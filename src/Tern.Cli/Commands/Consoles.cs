using Spectre.Console;

namespace Tern.Cli.Commands;

/// <summary>
/// Spectre wraps every line at 80 columns when it cannot ask a terminal for its width, which breaks a path or an
/// error message in two for the scripts that read our output. Redirected output gets a width no line reaches.
/// </summary>
internal static class Consoles
{
    private const int UnwrappedWidth = 32_767;

    public static void ConfigureStdout()
    {
        if (Console.IsOutputRedirected)
            AnsiConsole.Profile.Width = UnwrappedWidth;
    }

    public static IAnsiConsole CreateStderr()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        if (Console.IsErrorRedirected)
            console.Profile.Width = UnwrappedWidth;
        return console;
    }
}
