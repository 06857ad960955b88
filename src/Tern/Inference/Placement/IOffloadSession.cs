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
}
