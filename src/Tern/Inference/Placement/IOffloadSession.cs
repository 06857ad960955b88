using Tern.Models;

namespace Tern.Inference.Placement;

/// <summary>One conversation's part on the device. Not thread-safe, like the <see cref="Session"/> that owns it.</summary>
public interface IOffloadSession : IDisposable
{
    /// <summary>
    /// Runs the device's blocks for <paramref name="tokens"/> tokens at positions <paramref name="position"/> onwards.
    /// <paramref name="hidden"/> holds their hidden states entering the device's first block (token t at t·width).
    /// When the device computes the head, it hands the logits of tokens <paramref name="firstLogits"/> … tokens − 1
    /// to <paramref name="onLogits"/> (index within this call, logits) and copies the last token's into
    /// <paramref name="lastLogits"/>; otherwise it writes the hidden states leaving the last block back into
    /// <paramref name="hidden"/> for the host's head.
    /// </summary>
    void Forward(Span<float> hidden, int tokens, int position, int firstLogits, LogitsHandler? onLogits, Span<float> lastLogits);

    /// <summary>
    /// Runs one token at <paramref name="position"/> as <see cref="Forward"/> does and, in place of its logits, sets
    /// <paramref name="token"/> to the most likely next token as <see cref="Session.ArgMax"/> picks it: greedy
    /// decoding without the logits crossing to the host. False, with nothing run, when this device cannot (it does
    /// not compute the head, or has no quicker way than <see cref="Forward"/>); the caller then calls that.
    /// </summary>
    bool TryForwardGreedy(Span<float> hidden, int position, out int token)
    {
        token = 0;
        return false;
    }
}
