using System.Buffers.Binary;
using System.Text;
using Tern.Formats;

namespace Tern.Tests.Conversion;

/// <summary>One tensor of a test checkpoint: dtype, Hugging Face shape ([out, in]) and a callback that writes its bytes.</summary>
internal sealed record TestTensor(SafetensorsDType DType, long[] Shape, Action<Stream> Write);

/// <summary>
/// A Hugging Face checkpoint folder built by a test in the layout the real repositories use: config.json text,
/// model.safetensors (or an index and shards), tokenizer files copied from ../shared/data. Tensors are kept as
/// callbacks so a 128,256-row embedding is generated while it is written, never held whole; tests edit
/// <see cref="Tensors"/> and <see cref="ConfigJson"/> before <see cref="Write"/> to build broken checkpoints.
/// </summary>
internal sealed class HfTestCheckpoint(string folder)
{
    public string Folder { get; } = folder;

    public string ConfigJson { get; set; } = "";

    public OrderedDictionary<string, TestTensor> Tensors { get; } = new(StringComparer.Ordinal);

    /// <summary>Adds float values that are exact in <paramref name="dtype"/> (the test rounded them itself).</summary>
    public void AddFloats(string name, float[] values, long[] shape, SafetensorsDType dtype)
    {
        var bytes = Encode(values, dtype);
        Tensors[name] = new TestTensor(dtype, shape, s => s.Write(bytes));
    }

    /// <summary>Adds a [rows, cols] float tensor whose element (r, c) is value(r, c), generated row by row while written.</summary>
    public void AddGenerated(string name, long rows, int cols, SafetensorsDType dtype, Func<long, long, float> value)
    {
        Tensors[name] = new TestTensor(dtype, [rows, cols], s =>
        {
            var row = new float[cols];
            for (long r = 0; r < rows; r++)
            {
                for (int c = 0; c < cols; c++)
                    row[c] = value(r, c);
                s.Write(Encode(row, dtype));
            }
        });
    }

    public void AddBytes(string name, byte[] data, long[] shape) => Tensors[name] = new TestTensor(SafetensorsDType.U8, shape, s => s.Write(data));

    /// <summary>Copies files from ../shared/data into the folder: (source parts relative to shared/data, name here).</summary>
    public void CopyShared(string name, params string[] sourceParts) =>
        File.Copy(TestData.SharedDataPath(sourceParts), Path.Combine(Folder, name));

    /// <summary>The Llama 3 tokenizer as 2B-4T and HF1BitLLM ship it: tokenizer.json and tokenizer_config.json.</summary>
    public void CopyLlama3Tokenizer()
    {
        CopyShared("tokenizer.json", "tokenizers", "llama3", "tokenizer.json");
        CopyShared("tokenizer_config.json", "tokenizers", "llama3", "tokenizer_config.json");
    }

    /// <summary>Writes config.json and the tensors: one model.safetensors, or an index with that many shards.</summary>
    public void Write(int shards = 1)
    {
        File.WriteAllText(Path.Combine(Folder, "config.json"), ConfigJson);
        var names = Tensors.Keys.ToList();
        if (shards == 1)
        {
            WriteShard("model.safetensors", names);
            return;
        }

        int per = (names.Count + shards - 1) / shards;
        var map = new List<(string Tensor, string File)>();
        long total = 0;
        for (int s = 0; s < shards; s++)
        {
            string file = $"model-{s + 1:D5}-of-{shards:D5}.safetensors";
            var part = names.Skip(s * per).Take(per).ToList();
            WriteShard(file, part);
            foreach (var n in part)
            {
                map.Add((n, file));
                var t = Tensors[n];
                total += t.Shape.Aggregate(1L, (a, b) => a * b) * t.DType.SizeOf();
            }
        }

        var json = new StringBuilder();
        json.Append("{\n  \"metadata\": {\n    \"total_size\": ").Append(total).Append("\n  },\n  \"weight_map\": {\n");
        var sorted = map.OrderBy(m => m.Tensor, StringComparer.Ordinal).ToList();
        for (int i = 0; i < sorted.Count; i++)
            json.Append($"    \"{sorted[i].Tensor}\": \"{sorted[i].File}\"").Append(i + 1 < sorted.Count ? ",\n" : "\n");
        json.Append("  }\n}\n");
        File.WriteAllText(Path.Combine(Folder, "model.safetensors.index.json"), json.ToString());
    }

    private void WriteShard(string file, IEnumerable<string> names)
    {
        var writer = new SafetensorsWriter();
        writer.Metadata["format"] = "pt";
        foreach (var n in names)
        {
            var t = Tensors[n];
            writer.AddStreaming(n, t.DType, t.Shape, t.Write);
        }

        writer.Write(Path.Combine(Folder, file));
    }

    /// <summary>Little-endian bytes of values that must be exact in the dtype (fails the test otherwise).</summary>
    public static byte[] Encode(float[] values, SafetensorsDType dtype)
    {
        int size = dtype.SizeOf();
        var bytes = new byte[values.Length * size];
        for (int i = 0; i < values.Length; i++)
        {
            float v = values[i];
            var dst = bytes.AsSpan(i * size, size);
            switch (dtype)
            {
                case SafetensorsDType.F32:
                    BinaryPrimitives.WriteSingleLittleEndian(dst, v);
                    break;
                case SafetensorsDType.F16:
                    if ((float)(Half)v != v)
                        throw new InvalidOperationException($"test bug: {v} is not exact in F16");
                    BinaryPrimitives.WriteHalfLittleEndian(dst, (Half)v);
                    break;
                case SafetensorsDType.BF16:
                    uint bits = BitConverter.SingleToUInt32Bits(v);
                    if ((bits & 0xFFFF) != 0)
                        throw new InvalidOperationException($"test bug: {v} is not exact in BF16");
                    BinaryPrimitives.WriteUInt16LittleEndian(dst, (ushort)(bits >> 16));
                    break;
                default:
                    throw new ArgumentException($"test helper writes F32, F16 and BF16, not {dtype}", nameof(dtype));
            }
        }

        return bytes;
    }
}
