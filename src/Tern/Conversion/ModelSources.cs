using System.Buffers.Binary;
using Tern.Conversion.HuggingFace;
using Tern.Conversion.Llama2c;
using Tern.Formats;

namespace Tern.Conversion;

/// <summary>Opens whatever `tern convert` was given: a Hugging Face folder, a bitllama2.c file or a llama2.c file.</summary>
public static class ModelSources
{
    public static IModelSource Open(string input, ModelSourceOptions? options = null)
    {
        options ??= new ModelSourceOptions();
        if (Directory.Exists(input) || Path.GetFileName(input) == "config.json")
            return HfCheckpointSource.Open(input);
        if (!File.Exists(input))
            throw new FileNotFoundException($"{input}: no such file or folder", input);

        Span<byte> head = stackalloc byte[4];
        using (var f = File.OpenRead(input))
        {
            if (f.ReadAtLeast(head, 4, throwOnEndOfStream: false) < 4)
                throw new InvalidDataException($"{input}: {f.Length} bytes is too short to be a model");
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(head) == BitLlama2cModel.Magic)
            return new BitLlama2cSource(input, options);
        if (head.SequenceEqual("GGUF"u8))
            throw new InvalidDataException($"{input}: already a GGUF file; use `tern quantize` to change its ternary type");
        return new Llama2cSource(input, options);
    }
}
