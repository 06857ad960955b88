using System.Diagnostics;
using System.Runtime.InteropServices;
using Tern.Tests.Cli;

namespace Tern.Tests.Server;

/// <summary>
/// `tern serve` as a separate process, as users run it: started with --port 0, its address read from the
/// "listening on" line, stopped with a real SIGINT or SIGTERM.
/// </summary>
public sealed partial class ServeProcess : IDisposable
{
    private readonly Process _process;
    private readonly Task<string> _stderr;
    private readonly List<string> _stdout = [];
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServeProcess(Process process)
    {
        _process = process;
        _stderr = process.StandardError.ReadToEndAsync();
        _ = Task.Run(ReadStdoutAsync);
    }

    public static ServeProcess Start(params string[] args)
    {
        var start = TernProcess.NewStartInfo();
        start.ArgumentList.Add("serve");
        foreach (string a in args)
            start.ArgumentList.Add(a);
        return new ServeProcess(Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}"));
    }

    /// <summary>The address, once the port is bound.</summary>
    public Task<Uri> Listening => _listening.Task.WaitAsync(RunningServer.Patience);

    /// <summary>Completes when the model is loaded ("ready:" on stdout).</summary>
    public Task Ready => _ready.Task.WaitAsync(RunningServer.Patience);

    public IReadOnlyList<string> Stdout
    {
        get
        {
            lock (_stdout)
                return [.. _stdout];
        }
    }

    /// <summary>Sends <paramref name="signal"/> (2 SIGINT, 15 SIGTERM) and waits for the exit; returns the exit code and stderr.</summary>
    public async Task<(int ExitCode, string Stderr)> StopAsync(int signal)
    {
        Assert.Equal(0, Kill(_process.Id, signal));
        await _process.WaitForExitAsync().WaitAsync(RunningServer.Patience);
        return (_process.ExitCode, await _stderr);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }

    private async Task ReadStdoutAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
        {
            lock (_stdout)
                _stdout.Add(line);
            if (line.StartsWith("listening on ", StringComparison.Ordinal))
                _listening.TrySetResult(new Uri(line["listening on ".Length..]));
            if (line.StartsWith("ready: ", StringComparison.Ordinal))
                _ready.TrySetResult();
        }

        _listening.TrySetException(new InvalidOperationException("tern serve ended without listening"));
        _ready.TrySetException(new InvalidOperationException("tern serve ended before the model was ready"));
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
