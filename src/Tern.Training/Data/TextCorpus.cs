using System.Globalization;
using Tern.Text;

namespace Tern.Training.Data;

/// <summary>
/// A UTF-8 text file tokenized once and split as nanoGPT splits its data: the first tokens train, the last
/// <see cref="ValidationFraction"/> of them validate. The split is by token, not by document, so a document may
/// straddle it; the validation tokens still never appear in a training window.
/// </summary>
public sealed class TextCorpus
{
    public const double DefaultValidationFraction = 0.1;

    private readonly int[] _tokens;

    private TextCorpus(string name, int[] tokens, int trainCount, double validationFraction)
    {
        Name = name;
        _tokens = tokens;
        TrainCount = trainCount;
        ValidationFraction = validationFraction;
    }

    /// <summary>The file the text came from (or the name given to <see cref="FromText"/>), for messages.</summary>
    public string Name { get; }

    public double ValidationFraction { get; }

    /// <summary>Every token of the text, the training split first.</summary>
    public ReadOnlyMemory<int> Tokens => _tokens;

    public ReadOnlyMemory<int> Train => _tokens.AsMemory(0, TrainCount);

    public ReadOnlyMemory<int> Validation => _tokens.AsMemory(TrainCount);

    public int TrainCount { get; }

    public int ValidationCount => _tokens.Length - TrainCount;

    /// <summary>
    /// Reads and tokenizes <paramref name="path"/> and checks that both splits hold a window of
    /// <paramref name="context"/> tokens. Throws <see cref="FileNotFoundException"/> for a missing file and
    /// <see cref="InvalidDataException"/> for an empty one, invalid UTF-8 (with the offset of the first bad byte)
    /// or a text too short for the context, each naming the file.
    /// </summary>
    /// <param name="validationFraction">The share of the tokens, taken from the end, that validate; 0 for none.</param>
    public static TextCorpus Load(string path, TrainingVocabulary vocabulary, int context, double validationFraction = DefaultValidationFraction)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path) && !Directory.Exists(path))
            throw new FileNotFoundException($"{path}: the training text does not exist", path);
        if (File.Exists(path) && new FileInfo(path).Length == 0)
            throw new InvalidDataException($"{path}: the training text is empty");
        return FromText(Utf8TextFile.Read(path), vocabulary, context, validationFraction, path);
    }

    /// <summary>Tokenizes text already in memory; <paramref name="name"/> stands for the file in messages.</summary>
    public static TextCorpus FromText(string text, TrainingVocabulary vocabulary, int context, double validationFraction = DefaultValidationFraction, string name = "the text")
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(context, 1);
        if (!(validationFraction is >= 0 and < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "the validation fraction must be at least 0 and below 1");
        if (text.Length == 0)
            throw new InvalidDataException($"{name}: the training text is empty");

        int[] tokens = vocabulary.Encode(text);
        // As nanoGPT's int(n * 0.9): the training split is rounded down.
        int trainCount = (int)(tokens.Length * (1 - validationFraction));
        var corpus = new TextCorpus(name, tokens, trainCount, validationFraction);
        corpus.RequireContext(context);
        return corpus;
    }

    /// <summary>The fewest tokens a split needs for one window: <paramref name="context"/> inputs and, as the last
    /// target, the token after them.</summary>
    public static int TokensNeeded(int context) => checked(context + 1);

    /// <summary>Throws, naming both splits' sizes, unless each split (validation only when there is one) holds a
    /// window of <paramref name="context"/> tokens.</summary>
    public void RequireContext(int context)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(context, 1);
        int needed = TokensNeeded(context);
        bool trainShort = TrainCount < needed;
        bool validationShort = ValidationFraction > 0 && ValidationCount < needed;
        if (!trainShort && !validationShort)
            return;

        string which = (trainShort, validationShort) switch
        {
            (true, true) => "both splits are",
            (true, false) => "the training split is",
            _ => "the validation split is",
        };
        string splits = ValidationFraction > 0
            ? string.Create(CultureInfo.InvariantCulture, $"{_tokens.Length} tokens: {TrainCount} for training and {ValidationCount} for validation (the last {ValidationFraction * 100:0.##} %)")
            : $"{_tokens.Length} tokens, all for training";
        throw new InvalidDataException(
            $"{Name}: too short for a context of {context}: {which} under the {needed} tokens a window needs " +
            $"({context} inputs and the token after them); the text has {splits}. " +
            "Use a longer text or a shorter context" + (validationShort ? ", or a larger validation fraction" : "") + ".");
    }
}
