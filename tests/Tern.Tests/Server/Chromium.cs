namespace Tern.Tests.Server;

/// <summary>
/// Debian's chromium, which the browser test drives headless. CI installs it (.ci/run); elsewhere TERN_CHROMIUM
/// may name another Chromium or Chrome binary, and without one the test is skipped with a message that says how.
/// </summary>
public static class Chromium
{
    public static string ExecutablePath => Environment.GetEnvironmentVariable("TERN_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public static bool IsInstalled => File.Exists(ExecutablePath);

    public static string Missing => $"no Chromium at {ExecutablePath}: `apt-get install chromium` (or set TERN_CHROMIUM) to run the browser test";
}
