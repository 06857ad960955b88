using Tern.Tests.Inference;

namespace Tern.Tests.Server;

/// <summary>
/// The real bitllama2.c 3M model converted into a temporary GGUF file (vocabulary 512, context 512: fast), loaded
/// in the test process for comparisons, and one server over it with the default four sessions, shared by a test
/// class. Tests that change the server's options or its counters start their own on the same file.
/// </summary>
public sealed class ServedBit3M : IAsyncLifetime
{
    public Bit3MModel Model { get; } = new();

    public RunningServer Server { get; private set; } = null!;

    public string ModelPath => Model.Path;

    public async Task InitializeAsync() => Server = await RunningServer.StartAsync(Model.Path);

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Model.Dispose();
    }
}
