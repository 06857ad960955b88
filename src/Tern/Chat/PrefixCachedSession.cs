using Tern.Inference;

namespace Tern.Chat;

/// <summary>
/// A session and the tokens its KV cache holds. The next turn of a conversation is the previous prompt, the reply
/// and the new message, so its prompt begins with the cached tokens: only where the two part needs evaluating.
/// It owns the session and disposes it.
/// </summary>
internal sealed class PrefixCachedSession(Session session) : IDisposable
{
    private readonly List<int> _tokens = [];

    public Session Session { get; } = session;

    /// <summary>
    /// Rewinds the session to the longest common prefix of the cache and <paramref name="prompt"/> and returns its
    /// length. The last prompt token is always left to evaluate, since generation starts from the logits it gives.
    /// A prompt that shares nothing rewinds to the start: a fresh conversation in the same buffers.
    /// </summary>
    public int Reuse(IReadOnlyList<int> prompt)
    {
        int limit = Math.Min(_tokens.Count, prompt.Count - 1);
        int shared = 0;
        while (shared < limit && _tokens[shared] == prompt[shared])
            shared++;
        Forget(shared);
        return shared;
    }

    /// <summary>
    /// Records the tokens evaluated since <see cref="Reuse"/>, in order. <paramref name="candidates"/> may run past
    /// what the session actually evaluated (generation stopped, was cancelled or failed part way): the session's
    /// position says how many of them are in the cache.
    /// </summary>
    public void Commit(IReadOnlyList<int> candidates)
    {
        int evaluated = Session.Position - _tokens.Count;
        if (evaluated > candidates.Count)
        {
            // The cache holds tokens nobody recorded; keep only what is known.
            Forget(_tokens.Count);
            return;
        }

        for (int i = 0; i < evaluated; i++)
            _tokens.Add(candidates[i]);
    }

    public void Dispose() => Session.Dispose();

    private void Forget(int keep)
    {
        _tokens.RemoveRange(keep, _tokens.Count - keep);
        Session.Rewind(keep);
    }
}
