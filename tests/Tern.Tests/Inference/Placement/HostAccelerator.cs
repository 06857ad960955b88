using Tern.Gguf;
using Tern.Inference.Placement;
using Tern.Models;
using Tern.Runtime;

namespace Tern.Tests.Inference.Placement;

/// <summary>
/// A stand-in for a GPU that computes "its" blocks and head on the host with Tern's own CPU code (a second
/// <see cref="Transformer"/> running the layer range on the hidden states it is handed). A model placed on it must
/// give the CPU model's logits bit for bit, so any difference is the host side of the hand-over: which blocks the host
/// runs, the hidden states it passes, the positions, the chunks, where the head is applied and the logits handed back.
/// It counts the sessions it opens and the ones disposed, so tests can see that callers free device state.
/// </summary>
internal sealed class HostAccelerator(int chunkTokens = Transformer.ChunkTokens) : IAccelerator
{
    private int _opened, _disposed, _greedySteps;

    public string Description => "host stand-in";

    /// <summary>Sessions created and not yet disposed.</summary>
    public int OpenSessions => Volatile.Read(ref _opened) - Volatile.Read(ref _disposed);

    public int SessionsCreated => Volatile.Read(ref _opened);

    /// <summary>Greedy steps whose token the device picked itself (<see cref="IOffloadSession.TryForwardGreedy"/>).</summary>
    public int GreedySteps => Volatile.Read(ref _greedySteps);

    /// <summary>The last offload made, to inspect what went where.</summary>
    public HostOffload? Last { get; private set; }

    public IModelOffload Offload(GgufFile file, ModelConfig config, ModelWeights weights, ModelPlacement placement, WorkerPool pool) =>
        Last = new HostOffload(this, config, weights, placement, pool, chunkTokens);

    internal void Opened() => Interlocked.Increment(ref _opened);

    internal void Closed() => Interlocked.Increment(ref _disposed);

    internal void PickedGreedily() => Interlocked.Increment(ref _greedySteps);

    internal sealed class HostOffload : IModelOffload
    {
        private readonly HostAccelerator _owner;
        private readonly ModelConfig _config;
        private readonly WorkerPool _pool;

        public HostOffload(HostAccelerator owner, ModelConfig config, ModelWeights weights, ModelPlacement placement, WorkerPool pool, int chunkTokens)
        {
            _owner = owner;
            _config = config;
            _pool = pool;
            HostWeights = weights;
            ChunkTokens = chunkTokens;
            FirstLayer = placement.FirstGpuLayer(config.BlockCount);
            // The head follows the last block unless an override names it; a tied head is the embedding's tensor.
            var lastBlock = FirstLayer < config.BlockCount ? ComputeDevice.Cuda : ComputeDevice.Cpu;
            string head = ReferenceEquals(weights.Output, weights.TokenEmbedding) ? "token_embd.weight" : "output.weight";
            ComputesHead = placement.DeviceOf(head, lastBlock) == ComputeDevice.Cuda;
        }

        public int FirstLayer { get; }

        public bool ComputesHead { get; }

        public ModelWeights HostWeights { get; }

        public int ChunkTokens { get; }

        public string Summary => $"host stand-in: blocks {FirstLayer}–{_config.BlockCount - 1}{(ComputesHead ? " and the head" : "")}";

        public bool Disposed { get; private set; }

        public IOffloadSession CreateSession(int contextLength)
        {
            ObjectDisposedException.ThrowIf(Disposed, this);
            _owner.Opened();
            return new Session(this, contextLength);
        }

        public void Dispose() => Disposed = true;

        private sealed class Session(HostOffload device, int contextLength) : IOffloadSession
        {
            private readonly Transformer _blocks = new(device._config, device.HostWeights, contextLength, device._pool);
            private readonly KvCache _cache = new(device._config, contextLength);
            private readonly float[] _logits = new float[device._config.VocabSize];
            private bool _disposed;

            public void Forward(Span<float> hidden, int tokens, int position, int firstLogits, LogitsHandler? onLogits, Span<float> lastLogits)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                int dim = device._config.EmbeddingLength;
                Assert.True(tokens <= Math.Max(Transformer.ChunkTokens, device.ChunkTokens), $"{tokens} tokens in one pass, more than the device's {device.ChunkTokens}");
                Assert.Equal(tokens * dim, hidden.Length);
                for (int start = 0; start < tokens; start += Transformer.ChunkTokens)
                {
                    int n = Math.Min(Transformer.ChunkTokens, tokens - start);
                    _blocks.ForwardBlocks(hidden.Slice(start * dim, n * dim), n, position + start, _cache, device.FirstLayer);
                }

                if (!device.ComputesHead)
                    return;
                for (int t = firstLogits; t < tokens; t++)
                {
                    _blocks.Head(hidden.Slice(t * dim, dim), _logits);
                    onLogits?.Invoke(t, _logits);
                }

                if (firstLogits < tokens)
                    _logits.CopyTo(lastLogits);
            }

            /// <summary>The blocks and the head, then the argmax of the logits, which stay on the "device".</summary>
            public bool TryForwardGreedy(Span<float> hidden, int position, out int token)
            {
                token = 0;
                if (!device.ComputesHead)
                    return false;
                ObjectDisposedException.ThrowIf(_disposed, this);
                int dim = device._config.EmbeddingLength;
                Assert.Equal(dim, hidden.Length);
                _blocks.ForwardBlocks(hidden, 1, position, _cache, device.FirstLayer);
                _blocks.Head(hidden, _logits);
                token = Tern.Inference.Session.ArgMax(_logits);
                device._owner.PickedGreedily();
                return true;
            }

            public void Dispose()
            {
                if (_disposed)
                    return;
                _disposed = true;
                device._owner.Closed();
            }
        }
    }
}
