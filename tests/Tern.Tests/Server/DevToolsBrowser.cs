using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tern.Tests.Server;

/// <summary>
/// Headless Chromium driven through its DevTools protocol over a WebSocket: no driver, no Node, nothing to download.
/// Chromium picks a free debugging port and writes it to DevToolsActivePort in its profile folder; the test talks
/// to the one page it opens. Commands are JSON {id, method, params}; each answer carries the same id.
/// </summary>
public sealed class DevToolsBrowser : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TempFolder _profile;
    private readonly ClientWebSocket _socket = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly CancellationTokenSource _closing = new();
    private Task _receiving = Task.CompletedTask;
    private int _nextId;

    private DevToolsBrowser(Process process, TempFolder profile)
    {
        _process = process;
        _profile = profile;
    }

    public static async Task<DevToolsBrowser> LaunchAsync()
    {
        var profile = TestData.NewTempFolder();
        var start = new ProcessStartInfo(Chromium.ExecutablePath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        foreach (string arg in (string[])["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--remote-debugging-port=0", $"--user-data-dir={profile.Path}",
            "--window-size=1000,700", "about:blank"])
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
        // Chromium writes a lot to stderr; drain both pipes so it never blocks on a full one.
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        var browser = new DevToolsBrowser(process, profile);
        try
        {
            await browser.ConnectAsync();
        }
        catch
        {
            await browser.DisposeAsync();
            throw;
        }

        return browser;
    }

    /// <summary>Sends a command and returns its result; a protocol error fails the test with Chromium's message.</summary>
    public async Task<JsonElement> SendAsync(string method, JsonObject? parameters = null)
    {
        int id = Interlocked.Increment(ref _nextId);
        var answer = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        var command = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? [] };
        await _socket.SendAsync(Encoding.UTF8.GetBytes(command.ToJsonString()), WebSocketMessageType.Text, endOfMessage: true, _closing.Token);
        var message = await answer.Task.WaitAsync(RunningServer.Patience);
        if (message.TryGetProperty("error", out var error))
            Assert.Fail($"{method}: {error}");
        return message.GetProperty("result");
    }

    /// <summary>The value of a JavaScript expression in the page (promises awaited).</summary>
    public async Task<JsonElement> EvaluateAsync(string expression)
    {
        var result = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["returnByValue"] = true, ["awaitPromise"] = true });
        if (result.TryGetProperty("exceptionDetails", out var exception))
            Assert.Fail($"{expression}: {exception}");
        var value = result.GetProperty("result");
        return value.TryGetProperty("value", out var v) ? v : default;
    }

    /// <summary>Waits until a JavaScript expression is true in the page.</summary>
    public async Task WaitForAsync(string condition)
    {
        var deadline = DateTime.UtcNow + RunningServer.Patience;
        while ((await EvaluateAsync($"Boolean({condition})")).ValueKind != JsonValueKind.True)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the page never reached: {condition}");
            await Task.Delay(5);
        }
    }

    public async Task NavigateAsync(Uri address)
    {
        await SendAsync("Page.navigate", new JsonObject { ["url"] = address.ToString() });
        await WaitForAsync("document.readyState === 'complete'");
    }

    /// <summary>Types text into the focused element, as a keyboard would insert it.</summary>
    public Task TypeAsync(string text) => SendAsync("Input.insertText", new JsonObject { ["text"] = text });

    public async Task PressEnterAsync()
    {
        foreach (string type in (string[])["keyDown", "keyUp"])
        {
            var key = new JsonObject { ["type"] = type, ["key"] = "Enter", ["code"] = "Enter", ["windowsVirtualKeyCode"] = 13 };
            if (type == "keyDown")
                key["text"] = "\r";
            await SendAsync("Input.dispatchKeyEvent", key);
        }
    }

    public async Task ScreenshotAsync(string path)
    {
        var shot = await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png" });
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllBytesAsync(path, Convert.FromBase64String(shot.GetProperty("data").GetString()!));
    }

    public async ValueTask DisposeAsync()
    {
        await _closing.CancelAsync();
        _socket.Dispose();
        try
        {
            await _receiving;
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
            // The socket was closed under the reader, as intended.
        }

        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        _closing.Dispose();
        _profile.Dispose();
    }

    private async Task ConnectAsync()
    {
        string portFile = Path.Combine(_profile.Path, "DevToolsActivePort");
        var deadline = DateTime.UtcNow + RunningServer.Patience;
        while (!File.Exists(portFile) || File.ReadAllLines(portFile).Length < 2)
        {
            Assert.False(_process.HasExited, $"{Chromium.ExecutablePath} exited with code {(_process.HasExited ? _process.ExitCode : 0)} before it listened");
            Assert.True(DateTime.UtcNow < deadline, "Chromium never wrote DevToolsActivePort");
            await Task.Delay(50);
        }

        int port = int.Parse(File.ReadAllLines(portFile)[0], System.Globalization.CultureInfo.InvariantCulture);
        using var http = new HttpClient { Timeout = RunningServer.Patience };
        var targets = JsonDocument.Parse(await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/json/list"))).RootElement;
        string page = targets.EnumerateArray().First(t => t.GetProperty("type").GetString() == "page").GetProperty("webSocketDebuggerUrl").GetString()!;
        await _socket.ConnectAsync(new Uri(page), _closing.Token);
        _receiving = Task.Run(ReceiveAsync);
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[1 << 16];
        var message = new MemoryStream();
        while (!_closing.IsCancellationRequested)
        {
            var part = await _socket.ReceiveAsync(buffer, _closing.Token);
            if (part.MessageType == WebSocketMessageType.Close)
                return;
            message.Write(buffer, 0, part.Count);
            if (!part.EndOfMessage)
                continue;
            var json = JsonDocument.Parse(message.ToArray()).RootElement;
            message.SetLength(0);
            // Events (no id) are not needed: the test asks the page for its state.
            if (json.TryGetProperty("id", out var id) && _pending.TryRemove(id.GetInt32(), out var waiting))
                waiting.TrySetResult(json);
        }
    }
}
