using Tern.Models;

namespace Tern.Inference.Placement;

/// <summary>
/// The part of a model that lives on a device: blocks <see cref="FirstLayer"/> … last, the output head when
/// <see cref="ComputesHead"/>, and single tensors that overrides moved there. The host computes the rest with
/// <see cref="HostWeights"/> (the loaded weights, with any tensor an override sent to the device from a host block
/// replaced by a matrix that computes there).
/// </summary>
public interface IModelOffload : IDisposable
{
    /// <summary>The first block the device computes (the block count when it computes none).</summary>
    int FirstLayer { get; }

    /// <summary>Whether the device also applies the output norm and the head, handing back logits rather than hidden states.</summary>
    bool ComputesHead { get; }

    /// <summary>The weights the host computes with.</summary>
    ModelWeights HostWeights { get; }

    /// <summary>Tokens the device takes in one pass when it runs from the first block (a prompt of more goes in such chunks).</summary>
    int ChunkTokens { get; }

    /// <summary>What went where, in a line or two for the user.</summary>
    string Summary { get; }

    /// <summary>A conversation's device state (its KV cache for the device's blocks) for <paramref name="contextLength"/> tokens.</summary>
    IOffloadSession CreateSession(int contextLength);
}
