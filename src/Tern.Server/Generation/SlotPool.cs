using Tern.Inference;
using Tern.Server.Protocol;

namespace Tern.Server.Generation;

/// <summary>
/// The sessions that may generate at once (--parallel) and the bounded queue of requests waiting for one: a request
/// past the queue's length is refused at once (503 with Retry-After) rather than left to wait without end. Waiting
/// requests get a slot in the order they came (SemaphoreSlim hands its count to async waiters first come, first
/// served). The most recently freed slot is taken first, so one client's next turn usually finds its conversation
/// still in the cache.
/// </summary>
internal sealed class SlotPool : IDisposable
{
    private readonly SemaphoreSlim _free;
    private readonly Stack<SessionSlot> _idle = new();
    private readonly SessionSlot[] _slots;
    private readonly Lock _idleLock = new();
    private int _waiting;

    public SlotPool(TernModel model, int contextLength, int slots, int queueLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(queueLength);
        Slots = slots;
        QueueLength = queueLength;
        _free = new SemaphoreSlim(slots, slots);
        _slots = new SessionSlot[slots];
        for (int i = 0; i < slots; i++)
            _idle.Push(_slots[i] = new SessionSlot(model, contextLength));
    }

    public int Slots { get; }

    /// <summary>How many requests may wait for a slot.</summary>
    public int QueueLength { get; }

    /// <summary>Requests waiting for a slot now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Slots generating now.</summary>
    public int Active => Slots - _free.CurrentCount;

    /// <summary>
    /// A free slot, after waiting in the queue if none is free. Throws <see cref="ApiException"/> (503) when the queue
    /// is full or the server stops while the request waits, and OperationCanceledException when the client leaves.
    /// </summary>
    public async Task<SlotLease> AcquireAsync(CancellationToken requestAborted, CancellationToken stopping)
    {
        if (stopping.IsCancellationRequested)
            throw ShuttingDown();
        if (!_free.Wait(0))
        {
            if (Interlocked.Increment(ref _waiting) > QueueLength)
            {
                Interlocked.Decrement(ref _waiting);
                throw ApiException.Unavailable($"the server is busy: {Slots} requests are generating and {QueueLength} are waiting; try again shortly", "server_busy", retryAfterSeconds: 1);
            }

            try
            {
                using var either = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, stopping);
                await _free.WaitAsync(either.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested && !requestAborted.IsCancellationRequested)
            {
                throw ShuttingDown();
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
        }

        lock (_idleLock)
            return new SlotLease(this, _idle.Pop());
    }

    internal void Release(SessionSlot slot)
    {
        lock (_idleLock)
            _idle.Push(slot);
        _free.Release();
    }

    private static ApiException ShuttingDown() =>
        ApiException.Unavailable("the server is shutting down", "shutting_down", retryAfterSeconds: 5);

    /// <summary>Frees every slot's session; the server has stopped, so no request holds one.</summary>
    public void Dispose()
    {
        foreach (var slot in _slots)
            slot.Dispose();
        _free.Dispose();
    }
}
