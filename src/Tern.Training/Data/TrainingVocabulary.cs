using Tern.Conversion.Tokenizers;
using Tern.Gguf;
using Tern.Text;

namespace Tern.Training.Data;

/// <summary>
/// How text becomes token ids for training, and the vocabulary the exported GGUF carries. Encoding always runs
/// through the engine's <see cref="GgufTokenizer"/>, built from the very metadata that goes into the exported
/// file, so training and inference tokenize identically. Immutable; safe to share between threads.
/// </summary>
public sealed class TrainingVocabulary
{
    private TrainingVocabulary(GgufTokenizerData tokenizerData, string description)
    {
        tokenizerData.Validate();
        var metadata = new GgufMetadata();
        tokenizerData.WriteTo(metadata);
        TokenizerData = tokenizerData;
        Tokenizer = GgufTokenizer.Create(metadata);
        Description = description;
    }

    /// <summary>The vocabulary written into the exported model (<see cref="GgufTokenizerData.WriteTo"/>).</summary>
    public GgufTokenizerData TokenizerData { get; }

    /// <summary>The engine's tokenizer for <see cref="TokenizerData"/>, the same one inference builds from the file.</summary>
    public GgufTokenizer Tokenizer { get; }

    public int VocabularySize => Tokenizer.VocabularySize;

    /// <summary>Where the vocabulary came from and its size, for logs: "bytes (257 tokens)".</summary>
    public string Description { get; }

    /// <summary>What reading the tokenizer had to guess or drop (TokenizerData.Warnings), for the user to see.</summary>
    public IReadOnlyList<string> Warnings => TokenizerData.Warnings;

    /// <summary>The token that ends a document (the vocabulary's EOS).</summary>
    public int EndOfTextId => Tokenizer.EosId;

    /// <summary>One token per byte plus &lt;|endoftext|&gt; (<see cref="ByteVocabulary"/>).</summary>
    public static TrainingVocabulary Bytes() =>
        new(ByteVocabulary.Create(), $"bytes ({ByteVocabulary.Size} tokens: 256 bytes and {ByteVocabulary.EndOfTextToken})");

    /// <summary>
    /// An existing tokenizer: the vocabulary of a GGUF file, a SentencePiece or tiktoken tokenizer.model, a Hugging
    /// Face tokenizer.json, or a model folder holding one of those (<see cref="TokenizerSource.FromPath"/>).
    /// </summary>
    public static TrainingVocabulary FromFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        GgufTokenizerData data;
        string kind;
        if (IsGguf(path))
        {
            using var file = GgufFile.Open(path);
            try
            {
                data = GgufTokenizerData.FromMetadata(file.Metadata);
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"{path}: {e.Message}", e);
            }

            kind = "GGUF";
        }
        else
        {
            var source = TokenizerSource.FromPath(path);
            data = source.Load();
            kind = source.Kind switch
            {
                TokenizerSourceKind.HuggingFaceJson => "tokenizer.json",
                TokenizerSourceKind.SentencePiece => "SentencePiece",
                TokenizerSourceKind.Tiktoken => "tiktoken",
                _ => source.Kind.ToString(),
            };
        }

        try
        {
            return new(data, $"{Path.GetFileName(Path.TrimEndingDirectorySeparator(path))} ({kind}, {data.Model} model, {data.Tokens.Length} tokens)");
        }
        catch (Exception e) when (e is InvalidDataException or InvalidOperationException or NotSupportedException)
        {
            throw new InvalidDataException($"{path}: the engine cannot tokenize with this vocabulary: {e.Message}", e);
        }
    }

    /// <summary>A vocabulary already read (by a converter, or built in code).</summary>
    public static TrainingVocabulary FromTokenizerData(GgufTokenizerData data, string description)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(description);
        return new(data, description);
    }

    /// <summary>
    /// The ids of <paramref name="text"/>, without BOS. Control tokens written out in the text become their ids
    /// (TinyStories separates its stories with &lt;|endoftext|&gt;, which the byte vocabulary has as a token), so
    /// document ends are learned as the token the model will emit at inference.
    /// </summary>
    public int[] Encode(string text) => Tokenizer.Encode(text, addBos: false, parseSpecial: true);

    /// <summary>The text of <paramref name="ids"/>; control tokens are left out, as the engine prints them.</summary>
    public string Decode(ReadOnlySpan<int> ids) => Tokenizer.Decode(ids);

    /// <summary>Writes the vocabulary's tokenizer keys into the exported model's metadata.</summary>
    public void WriteTo(GgufMetadata metadata) => TokenizerData.WriteTo(metadata);

    public override string ToString() => Description;

    private static bool IsGguf(string path)
    {
        if (!File.Exists(path))
            return false;
        Span<byte> magic = stackalloc byte[4];
        using var stream = File.OpenRead(path);
        return stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false) == 4 &&
               System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(magic) == GgufFile.Magic;
    }
}
