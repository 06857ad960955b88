namespace Tern.Tests.Server;

/// <summary>A <see cref="TempFolder"/> for <c>await using</c> beside servers that are disposed asynchronously.</summary>
public sealed class AsyncTempFolder : IAsyncDisposable
{
    private readonly TempFolder _folder = TestData.NewTempFolder();

    public string File(string name) => _folder.File(name);

    public ValueTask DisposeAsync()
    {
        _folder.Dispose();
        return ValueTask.CompletedTask;
    }
}
