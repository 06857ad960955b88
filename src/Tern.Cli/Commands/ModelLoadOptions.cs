using System.CommandLine;
using Tern.Cuda.Inference;
using Tern.Gguf;
using Tern.Inference;
using Tern.Inference.Placement;
using Tern.Models;
using Tern.Runtime;

namespace Tern.Cli.Commands;

/// <summary>
/// How a model is loaded (threads, the head's type, which blocks compute on the GPU): the options `run`, `bench`,
/// `perplexity`, `chat`, `logits` and `serve` share. The GPU flags are llama.cpp's: -ngl counts blocks from the last,
/// -ot moves single tensors, -mg picks the device.
/// </summary>
internal sealed class ModelLoadOptions
{
    private readonly Option<int> _threads = new("--threads", "-t") { Description = "Threads (default: the physical cores).", DefaultValueFactory = _ => PhysicalCores.Value };

    private readonly Option<string?> _headType = new("--head-type")
    {
        Description = "Requantize the output head at load to this type (default: as stored); the embedding lookup keeps the stored tensor.",
    };

    private readonly Option<string> _device = new("--device")
    {
        Description = "Where the model computes: cpu, cuda, or auto (CUDA when -ngl or --override-tensor puts something there).",
        HelpName = "cpu|cuda|auto",
        DefaultValueFactory = _ => "auto",
    };

    private readonly Option<int?> _gpuLayers = new("--n-gpu-layers", "-ngl", "--gpu-layers")
    {
        Description = "Blocks computed on the GPU, counted from the last; the head goes with the last block (default: all with --device cuda, else 0).",
        HelpName = "N",
    };

    private readonly Option<string[]> _overrides = new("--override-tensor", "-ot")
    {
        Description = "REGEX=cpu|cuda: tensors whose name the pattern finds compute there (repeatable or comma-separated; the first match wins).",
        HelpName = "REGEX=DEVICE",
    };

    private readonly Option<int> _mainGpu = new("--main-gpu", "-mg") { Description = "The CUDA device to use, numbered from 0.", HelpName = "N", DefaultValueFactory = _ => 0 };

    public ModelLoadOptions() =>
        _headType.AcceptOnlyFromAmong(HeadRequantizer.Types.Select(t => GgmlTypeTraits.NameOf(t).ToLowerInvariant()).ToArray());

    public void AddTo(Command command)
    {
        command.Options.Add(_threads);
        command.Options.Add(_headType);
        command.Options.Add(_device);
        command.Options.Add(_gpuLayers);
        command.Options.Add(_overrides);
        command.Options.Add(_mainGpu);
    }

    /// <summary>
    /// The load options the flags give, with the GPU opened when they ask for one. A GPU that cannot be used is
    /// reported in one line on stderr and the model runs on the CPU. Dispose the result after the model.
    /// </summary>
    public ModelLoad Read(ParseResult parse)
    {
        int t = parse.GetValue(_threads);
        if (t < 1)
            throw new ArgumentException($"-t {t}: at least one thread is needed");
        string? head = parse.GetValue(_headType);
        var options = new TernModelOptions { Threads = t, HeadType = head is null ? null : Types.Parse(head, "--head-type") };

        var placement = ReadPlacement(parse);
        int mainGpu = parse.GetValue(_mainGpu);
        if (mainGpu < 0)
            throw new ArgumentException($"--main-gpu {mainGpu}: devices are numbered from 0");
        if (placement.GpuLayers == 0 && !placement.Overrides.Any(o => o.Device == ComputeDevice.Cuda))
            return new ModelLoad(options, null);
        if (!CudaAccelerator.TryCreate(mainGpu, out var accelerator, out string whyNot))
        {
            Console.Error.WriteLine($"tern: CUDA not used: {OneLine(whyNot)}; running on the CPU.");
            return new ModelLoad(options, null);
        }

        return new ModelLoad(options with { Placement = placement, Accelerator = accelerator }, accelerator) { MainGpu = mainGpu };
    }

    /// <summary>What the GPU flags ask for; CPU only when they ask for nothing there or --device cpu says so.</summary>
    private ModelPlacement ReadPlacement(ParseResult parse)
    {
        string device = parse.GetValue(_device) ?? "auto";
        int? layers = parse.GetValue(_gpuLayers);
        if (layers < 0)
            throw new ArgumentException($"-ngl {layers}: the number of GPU layers must be 0 or more");
        var overrides = (parse.GetValue(_overrides) ?? []).SelectMany(TensorOverride.ParseList).ToList();
        var toGpu = overrides.FirstOrDefault(o => o.Device == ComputeDevice.Cuda);
        switch (device.ToLowerInvariant())
        {
            case "cpu":
                if (layers > 0)
                    throw new ArgumentException($"-ngl {layers}: --device cpu computes every block on the CPU");
                if (toGpu is not null)
                    throw new ArgumentException($"--override-tensor {toGpu}: --device cpu computes every tensor on the CPU");
                return ModelPlacement.CpuOnly;
            case "cuda":
                return new ModelPlacement { GpuLayers = layers ?? ModelPlacement.AllLayers, Overrides = overrides };
            case "auto":
                return new ModelPlacement { GpuLayers = layers ?? 0, Overrides = overrides };
            default:
                throw new ArgumentException($"--device {device}: expected cpu, cuda or auto");
        }
    }

    private static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries)).Trim().TrimEnd('.');
}

/// <summary>The options a model loads with and the GPU they opened, if any, which is disposed with this (after the model).</summary>
internal sealed class ModelLoad(TernModelOptions options, CudaAccelerator? accelerator) : IDisposable
{
    public TernModelOptions Options { get; } = options;

    /// <summary>The GPU, when the flags asked for one and it could be opened.</summary>
    public CudaAccelerator? Accelerator { get; } = accelerator;

    public ModelPlacement Placement => Options.Placement;

    /// <summary>The GPU's ordinal (-mg).</summary>
    public int MainGpu { get; init; }

    public TernModel Load(string path) => TernModel.Load(path, Options);

    public void Dispose() => Accelerator?.Dispose();
}
