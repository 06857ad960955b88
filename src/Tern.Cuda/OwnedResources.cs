namespace Tern.Cuda;

/// <summary>
/// The device resources one object owns, disposed together, last acquired first. A constructor that fails halfway
/// disposes what it already made; an owner's Dispose is this one's.
/// </summary>
internal sealed class OwnedResources : IDisposable
{
    private readonly List<IDisposable> _items = [];

    /// <summary>Takes <paramref name="resource"/> into the set and hands it back.</summary>
    public T Add<T>(T resource)
        where T : IDisposable
    {
        _items.Add(resource);
        return resource;
    }

    public void Dispose()
    {
        for (int i = _items.Count - 1; i >= 0; i--)
            _items[i].Dispose();
        _items.Clear();
    }
}
