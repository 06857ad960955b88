using System.Buffers.Binary;
using System.Globalization;
using Tern.Formats;

namespace Tern.Tests.Training;

/// <summary>The model and step settings a twin fixture was made with (its safetensors "__metadata__").</summary>
public sealed record TwinConfig(
    string Arch,
    int Vocab,
    int Dim,
    int Layers,
    int Heads,
    int KvHeads,
    int Ffn,
    int Ctx,
    int Batch,
    double RopeTheta,
    double Eps,
    bool Quantized,
    bool Tied,
    double LearningRate,
    double WeightDecay,
    long Seed,
    string TorchVersion)
{
    public int HeadDim => Dim / Heads;

    public bool HasSubNorms => Arch == "bitnet-b1.58";

    internal static TwinConfig FromMetadata(IReadOnlyDictionary<string, string> m, string path)
    {
        string Field(string key) => m.TryGetValue(key, out var v) ? v : throw new InvalidDataException($"{path}: metadata has no '{key}'");
        int Int(string key) => int.Parse(Field(key), CultureInfo.InvariantCulture);
        double Real(string key) => double.Parse(Field(key), CultureInfo.InvariantCulture);
        bool Flag(string key) => bool.Parse(Field(key));
        return new TwinConfig(Field("arch"), Int("vocab"), Int("dim"), Int("layers"), Int("heads"), Int("kv_heads"),
            Int("ffn"), Int("ctx"), Int("batch"), Real("rope_theta"), Real("eps"), Flag("quantized"), Flag("tied"),
            Real("lr"), Real("weight_decay"), long.Parse(Field("seed"), CultureInfo.InvariantCulture), Field("torch"));
    }
}

/// <summary>A float32 tensor of a fixture, row-major, shape outermost first ([out, in] for a matrix).</summary>
public sealed record TwinTensor(float[] Data, int[] Shape);

/// <summary>
/// One reference file of tools/torch-twin/twin.py: a model's float32 initial weights under their GGUF names, a
/// batch, and what PyTorch computed from them in float64 (logits, loss, every gradient, the weights after one AdamW
/// step), for the trainer's tests to compare with.
/// </summary>
public sealed class TwinFixture
{
    public const string GradientPrefix = "grad.";
    public const string UpdatedPrefix = "updated.";

    /// <summary>The fixtures twin.py writes, by file name.</summary>
    public static readonly string[] FileNames =
    [
        "twin-bitnet-qat.safetensors",
        "twin-bitnet-fp.safetensors",
        "twin-llama-qat.safetensors",
        "twin-llama-fp.safetensors",
    ];

    private readonly Dictionary<string, TwinTensor> _tensors;

    public string Path { get; }

    public TwinConfig Config { get; }

    /// <summary>The GGUF names of the model's parameters (token_embd.weight, blk.0.attn_q.weight …), in file order.</summary>
    public IReadOnlyList<string> ParameterNames { get; }

    /// <summary>Every float tensor of the file: initial weights, grad.*, updated.*, logits.</summary>
    public IReadOnlyDictionary<string, TwinTensor> Tensors => _tensors;

    /// <summary>Input tokens, [Batch, Ctx] row-major.</summary>
    public int[] Tokens { get; }

    /// <summary>The token each position should predict, [Batch, Ctx] row-major.</summary>
    public int[] Targets { get; }

    /// <summary>[Batch, Ctx, Vocab], the float64 logits rounded to float32.</summary>
    public TwinTensor Logits => _tensors["logits"];

    /// <summary>Mean cross-entropy over the Batch·Ctx positions, in float64.</summary>
    public double Loss { get; }

    /// <summary>Global L2 norm of all the gradients, before clipping.</summary>
    public double GradNorm { get; }

    public TwinTensor Initial(string name) => _tensors[name];

    /// <summary>The gradient of the loss (before clipping), rounded to float32.</summary>
    public TwinTensor Gradient(string name) => _tensors[GradientPrefix + name];

    /// <summary>The weights after one clipped AdamW step, rounded to float32.</summary>
    public TwinTensor Updated(string name) => _tensors[UpdatedPrefix + name];

    /// <summary>Where the tests project copies the fixture of that name (Fixtures/Training under its output folder).</summary>
    public static string PathOf(string fileName) =>
        System.IO.Path.Combine(AppContext.BaseDirectory, "Fixtures", "Training", fileName);

    public static TwinFixture Load(string fileName) => new(PathOf(fileName));

    private TwinFixture(string path)
    {
        Path = path;
        using var file = SafetensorsFile.Open(path);
        Config = TwinConfig.FromMetadata(file.Metadata, path);
        _tensors = new Dictionary<string, TwinTensor>(StringComparer.Ordinal);
        var parameters = new List<string>();
        foreach (var info in file.Tensors)
        {
            if (info.DType != SafetensorsDType.F32)
                continue;
            _tensors[info.Name] = ReadFloats(file, info);
            if (info.Name.EndsWith(".weight", StringComparison.Ordinal)
                && !info.Name.StartsWith(GradientPrefix, StringComparison.Ordinal)
                && !info.Name.StartsWith(UpdatedPrefix, StringComparison.Ordinal))
                parameters.Add(info.Name);
        }
        ParameterNames = parameters;
        Tokens = ReadInts(file, "tokens");
        Targets = ReadInts(file, "targets");
        Loss = ReadScalar(file, "loss");
        GradNorm = ReadScalar(file, "grad_norm");
    }

    private static TwinTensor ReadFloats(SafetensorsFile file, SafetensorsTensorInfo info)
    {
        var data = new float[info.ElementCount];
        file.ReadRowsAsFloat(info, 0, (int)info.RowCount, data);
        return new TwinTensor(data, info.Shape.Select(d => (int)d).ToArray());
    }

    private static int[] ReadInts(SafetensorsFile file, string name)
    {
        var info = Expect(file, name, SafetensorsDType.I32);
        var bytes = file.ReadBytes(info, 0, (int)info.ByteSize);
        var values = new int[info.ElementCount];
        for (int i = 0; i < values.Length; i++)
            values[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4 * i));
        return values;
    }

    private static double ReadScalar(SafetensorsFile file, string name)
    {
        var info = Expect(file, name, SafetensorsDType.F64);
        if (info.ElementCount != 1)
            throw new InvalidDataException($"{file.Path}: '{name}' has shape {info.ShapeText}, not [1]");
        return BinaryPrimitives.ReadDoubleLittleEndian(file.ReadBytes(info, 0, 8));
    }

    private static SafetensorsTensorInfo Expect(SafetensorsFile file, string name, SafetensorsDType dtype)
    {
        var info = file.GetTensor(name);
        if (info.DType != dtype)
            throw new InvalidDataException($"{file.Path}: '{name}' is {info.DType.ToHeaderName()}, not {dtype.ToHeaderName()}");
        return info;
    }
}
