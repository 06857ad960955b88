namespace Tern.Server.Generation;

/// <summary>A slot held by one request; disposing it hands the slot to the next request in the queue.</summary>
internal sealed class SlotLease(SlotPool pool, SessionSlot slot) : IDisposable
{
    private bool _released;

    public SessionSlot Slot { get; } = slot;

    public void Dispose()
    {
        if (_released)
            return;
        _released = true;
        pool.Release(Slot);
    }
}
