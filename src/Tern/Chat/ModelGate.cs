using System.Runtime.CompilerServices;
using Tern.Inference;

namespace Tern.Chat;

/// <summary>
/// One lock per loaded model. The model's matrices keep per-product scratch buffers, so only one session may
/// compute at a time: every chat client of the same model waits on the same semaphore, not only calls on one client.
/// </summary>
internal static class ModelGate
{
    private static readonly ConditionalWeakTable<TernModel, SemaphoreSlim> Gates = [];

    public static SemaphoreSlim For(TernModel model) => Gates.GetValue(model, _ => new SemaphoreSlim(1, 1));
}
