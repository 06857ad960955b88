using Tern.Chat;
using Tern.Inference;

namespace Tern.Server.Generation;

/// <summary>
/// One of the sessions that may generate at once: a KV cache created at first use and then kept, so memory stops
/// growing once every slot has served a request. It remembers what its cache holds, so a request that continues the
/// conversation it served last evaluates only its new tokens.
/// </summary>
internal sealed class SessionSlot(TernModel model, int contextLength) : IDisposable
{
    private PrefixCachedSession? _cache;

    public PrefixCachedSession Cache => _cache ??= new PrefixCachedSession(model.CreateSession(contextLength));

    /// <summary>Frees the session (its device memory when the model computes on a GPU); only once no request holds the slot.</summary>
    public void Dispose() => _cache?.Dispose();
}
