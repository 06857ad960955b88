using Tern.Inference;

namespace Tern.Server.Generation;

/// <summary>What one request asks the model for: its prompt's tokens, how many tokens at most, how to sample, where to stop.</summary>
internal sealed record GenerationRequest(int[] Prompt, int MaxTokens, SamplingOptions Sampling, IReadOnlyList<string> StopSequences);
