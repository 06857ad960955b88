using System.Text;
using System.Text.Json;
using Tern.Gguf;

namespace Tern.Tests.Cli;

/// <summary>
/// `tern run` on broken models and bad prompts: one "error: …" line naming the file and what is wrong, exit code 1,
/// no stack trace. The broken models are stories260K (converted once by `tern convert`) rewritten with GgufWriter:
/// a tensor dropped, a tensor with the wrong shape, metadata that disagrees with the tensors, an unknown
/// architecture. (-t 0, -n -1 and a prompt longer than -c are in RunCommandTests.)
/// </summary>
public sealed class RunBadInputTests(RunBadInputTests.Models models) : IClassFixture<RunBadInputTests.Models>
{
    [Fact]
    public void AMissingTensorIsNamed()
    {
        string path = models.Rewrite("no-ffn-up.gguf", dropTensor: "blk.3.ffn_up.weight");
        CliAssert.UserError(Run(path), path, "tensor 'blk.3.ffn_up.weight' is missing");
    }

    [Fact]
    public void ATensorOfTheWrongShapeIsNamed()
    {
        // The same bytes under transposed dimensions: the file itself is consistent, the model is not.
        string path = models.Rewrite("transposed.gguf", transposeTensor: "blk.1.ffn_up.weight");
        CliAssert.UserError(Run(path), path, "blk.1.ffn_up.weight", "has shape [172, 64]", "[64, 172]");
    }

    [Fact]
    public void MetadataThatDisagreesWithTheTensorsIsNamed()
    {
        string path = models.Rewrite("wrong-ffn-length.gguf", edit: m => m.Set("llama.feed_forward_length", 256u));
        CliAssert.UserError(Run(path), path, "blk.0.ffn_gate.weight", "[64, 256]");
    }

    [Fact]
    public void AnUnknownArchitectureIsNamed()
    {
        string path = models.Rewrite("mamba.gguf", edit: m => m.Set(GgufKeys.Architecture, "mamba"));
        CliAssert.UserError(Run(path), path, "architecture 'mamba' is not supported");
    }

    [Fact]
    public void ATruncatedModelIsNamed()
    {
        string path = models.File("truncated.gguf");
        var bytes = File.ReadAllBytes(models.Good);
        File.WriteAllBytes(path, bytes[..(bytes.Length * 2 / 3)]);
        CliAssert.UserError(Run(path), path);
    }

    [Fact]
    public void APromptFileThatIsNotUtf8IsRefusedAtItsFirstBadByte()
    {
        string prompt = models.File("latin1.txt");
        File.WriteAllBytes(prompt, [.. "Caf"u8, 0xE9, .. " au lait"u8]); // "Café" in Latin-1
        CliAssert.UserError(Run(models.Good, "-f", prompt), prompt, "not valid UTF-8 at byte 3 (0xE9)");

        // A sequence cut short at the end of the file, and an overlong encoding of '/', are refused as well.
        File.WriteAllBytes(prompt, [.. "Once upon a time "u8, 0xE2, 0x82]);
        CliAssert.UserError(Run(models.Good, "-f", prompt), "at byte 17 (0xE2)");
        File.WriteAllBytes(prompt, [.. "a"u8, 0xC0, 0xAF]);
        CliAssert.UserError(Run(models.Good, "-f", prompt), "at byte 1 (0xC0)");
    }

    [Fact]
    public void APromptFileGivesTheSameTokensAsTheSameTextInline()
    {
        string prompt = models.File("prompt.txt");
        File.WriteAllText(prompt, "Once upon a time, Lily\n", new UTF8Encoding(false));
        var fromFile = Run(models.Good, "-f", prompt, "--json");
        var inline = Run(models.Good, "-p", "Once upon a time, Lily", "--json");
        CliAssert.Succeeded(fromFile);
        CliAssert.Succeeded(inline);
        using var a = JsonDocument.Parse(fromFile.Stdout);
        using var b = JsonDocument.Parse(inline.Stdout);
        Assert.Equal(b.RootElement.GetProperty("prompt_tokens").ToString(), a.RootElement.GetProperty("prompt_tokens").ToString());
        Assert.Equal(b.RootElement.GetProperty("text").GetString(), a.RootElement.GetProperty("text").GetString());
    }

    [Fact]
    public void PromptArgumentsThatCannotBeUsed()
    {
        string prompt = models.File("both.txt");
        File.WriteAllText(prompt, "Once");
        CliAssert.UserError(Run(models.Good, "-p", "Once", "-f", prompt), "-p or -f");
        string missing = models.File("no-such-prompt.txt");
        CliAssert.UserError(Run(models.Good, "-f", missing), missing);
        string folder = models.File("a-folder");
        Directory.CreateDirectory(folder);
        CliAssert.UserError(Run(models.Good, "-f", folder), folder, "is a folder");
        File.WriteAllText(prompt, string.Concat(Enumerable.Repeat("Once upon a time there was a cat. ", 20)));
        CliAssert.UserError(Run(models.Good, "-f", prompt, "-c", "16"), "longer than the context of 16");
    }

    [Fact]
    public void ContextSizesOutsideTheModelsAreRefused()
    {
        CliAssert.UserError(Run(models.Good, "-p", "x", "-c", "0"), "-c 0");
        CliAssert.UserError(Run(models.Good, "-p", "x", "-c", "100000"), "-c 100000", "512");
    }

    private static TernResult Run(string model, params string[] more) =>
        TernProcess.Run(["run", "-m", model, "-n", "4", "--temp", "0", .. (more.Length > 0 ? more : ["-p", "Once upon a time"])]);

    /// <summary>stories260K as F32 GGUF, and a folder for the broken copies.</summary>
    public sealed class Models : IDisposable
    {
        private readonly TempFolder _temp = TestData.NewTempFolder();

        public Models()
        {
            Good = _temp.File("stories260K.gguf");
            CliAssert.Succeeded(TernProcess.Run("convert", TestData.SharedDataPath("models", "stories260K", "stories260K.bin"), "-o", Good, "--type", "f32"));
        }

        public string Good { get; }

        public string File(string name) => _temp.File(name);

        /// <summary>A copy of the good model with one change, written by GgufWriter so the file itself is well formed.</summary>
        public string Rewrite(string name, string? dropTensor = null, string? transposeTensor = null, Action<GgufMetadata>? edit = null)
        {
            string path = _temp.File(name);
            using var file = GgufFile.Open(Good);
            var metadata = new GgufMetadata();
            foreach (var (key, value) in file.Metadata)
                metadata.Add(key, value);
            edit?.Invoke(metadata);
            var writer = new GgufWriter(metadata);
            foreach (var t in file.Tensors.Where(t => t.Name != dropTensor))
            {
                long[] shape = t.Name == transposeTensor ? [.. t.Shape.Reverse()] : t.Shape;
                writer.AddTensor(t.Name, t.Type, shape, file.GetTensorData(t).ToArray());
            }

            writer.Write(path);
            return path;
        }

        public void Dispose() => _temp.Dispose();
    }
}
