using System.Diagnostics;

namespace Tern.Tests.Cli;

/// <summary>What one run of `tern` printed and returned.</summary>
public sealed record TernResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit code {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>
/// Runs the CLI as a separate process, as users do. Output is redirected, so the CLI sees no terminal and draws no
/// progress bar. By default it runs the JIT build that this test project builds beside itself
/// (src/Tern.Cli/bin/&lt;Configuration&gt;/net10.0/Tern.Cli.dll); TERN_CLI=/path/to/tern runs the same tests
/// against another build, such as the NativeAOT binary.
/// </summary>
public static class TernProcess
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static readonly Lazy<string> CliDll = new(FindCliDll);

    public static TernResult Run(params string[] args) => RunWithEnvironment(new Dictionary<string, string>(), args);

    /// <summary>Runs with extra environment variables, e.g. DOTNET_EnableAVX512F=0 to take another SIMD path.</summary>
    public static TernResult RunWithEnvironment(IReadOnlyDictionary<string, string> environment, params string[] args) =>
        Execute(environment, input: null, args);

    /// <summary>Runs with <paramref name="input"/> on standard input, which is then closed (end of input), as `tern chat` reads it.</summary>
    public static TernResult RunWithInput(string input, params string[] args) => Execute(new Dictionary<string, string>(), input, args);

    private static TernResult Execute(IReadOnlyDictionary<string, string> environment, string? input, string[] args)
    {
        var start = NewStartInfo();
        foreach (var (key, value) in environment)
            start.Environment[key] = value;
        foreach (var a in args)
            start.ArgumentList.Add(a);
        // Spectre honours NO_COLOR; redirected output has no colour anyway, this keeps it so on odd hosts.
        start.Environment["NO_COLOR"] = "1";
        if (input != null)
            start.StandardInputEncoding = new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
        // Both pipes are drained at once: reading one to its end while the child fills the other would deadlock.
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        // Written beside the reads for the same reason: a child that answers each line fills stdout while we write.
        var stdin = Task.Run(() =>
        {
            try
            {
                if (input != null)
                    process.StandardInput.Write(input);
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // The child exited without reading all of it (bad arguments): its exit code and stderr tell the test.
            }
        });
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"tern {string.Join(' ', args)} ran longer than {Timeout.TotalSeconds} s");
        }

        process.WaitForExit();
        stdin.Wait();
        return new TernResult(process.ExitCode, stdout.Result, stderr.Result);
    }

    internal static ProcessStartInfo NewStartInfo()
    {
        var start = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (Environment.GetEnvironmentVariable("TERN_CLI") is { Length: > 0 } native)
        {
            start.FileName = native;
        }
        else
        {
            // The muxer that runs these tests, so a machine with several SDKs uses the same runtime.
            start.FileName = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
            start.ArgumentList.Add(CliDll.Value);
        }

        return start;
    }

    private static string FindCliDll()
    {
        // The test assembly sits in tests/Tern.Tests/bin/<Configuration>/<tfm>/; the CLI was built with the same two.
        var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string tfm = testBin.Name;
        string configuration = testBin.Parent!.Name;
        string dll = Path.Combine(TestData.RepoRoot, "src", "Tern.Cli", "bin", configuration, tfm, "Tern.Cli.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"{dll} not found; build src/Tern.Cli ({configuration}) first", dll);
    }
}
