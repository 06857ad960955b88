using System.Globalization;
using System.Text;

namespace Tern.Training.Reporting;

/// <summary>
/// The loss curve of a run as a CSV file, one row per logged step, written as it goes so that a crashed or
/// running job can be plotted: each row is flushed when appended. Numbers use the invariant culture and the
/// shortest text that reads back to the same double; val_loss is empty where validation did not run.
/// </summary>
public sealed class LossLog : IDisposable
{
    public const string Header = "step,tokens,train_loss,val_loss,lr,grad_norm,tokens_per_s,elapsed_s";

    private const int ColumnCount = 8;

    private readonly StreamWriter _writer;

    private LossLog(string path, StreamWriter writer, int lastStep)
    {
        Path = path;
        _writer = writer;
        LastStep = lastStep;
    }

    public string Path { get; }

    /// <summary>The step of the last row in the file, or 0 when it has none.</summary>
    public int LastStep { get; private set; }

    /// <summary>Starts a new log at <paramref name="path"/>, replacing any file there.</summary>
    public static LossLog Create(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var writer = OpenWriter(path, FileMode.Create);
        writer.Write(Header);
        writer.Write('\n');
        writer.Flush();
        return new LossLog(path, writer, 0);
    }

    /// <summary>
    /// Continues the log of a run resumed from a checkpoint taken after <paramref name="step"/>: rows of later steps
    /// (logged after the checkpoint by the run that stopped) are dropped, and so is a last line cut short by a
    /// crash. The kept rows are rewritten through a temporary file, so the log is never left half-truncated.
    /// Without a file at <paramref name="path"/>, starts a new log.
    /// </summary>
    public static LossLog Resume(string path, int step)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        if (!File.Exists(path))
            return Create(path);

        var kept = ReadRows(path, dropCutLastLine: true).Where(r => r.Step <= step).ToList();
        string temporary = path + ".tmp";
        using (var rewrite = OpenWriter(temporary, FileMode.Create))
        {
            rewrite.Write(Header);
            rewrite.Write('\n');
            foreach (var record in kept)
                WriteRow(rewrite, record);
        }

        File.Move(temporary, path, overwrite: true);
        return new LossLog(path, OpenWriter(path, FileMode.Append), kept.Count > 0 ? kept[^1].Step : 0);
    }

    /// <summary>Appends a row and flushes it to the operating system, so a crash loses at most the row being written.</summary>
    public void Append(LossRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        WriteRow(_writer, record);
        _writer.Flush();
        LastStep = record.Step;
    }

    /// <summary>Every row of a log, in file order. Throws naming the file and line of anything that is not a row.</summary>
    public static IReadOnlyList<LossRecord> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return ReadRows(path, dropCutLastLine: false);
    }

    public void Dispose() => _writer.Dispose();

    private static StreamWriter OpenWriter(string path, FileMode mode) =>
        new(new FileStream(path, mode, FileAccess.Write, FileShare.Read), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));

    private static void WriteRow(TextWriter writer, LossRecord r)
    {
        var line = new StringBuilder(96);
        line.Append(r.Step.ToString(CultureInfo.InvariantCulture)).Append(',')
            .Append(r.Tokens.ToString(CultureInfo.InvariantCulture)).Append(',')
            .Append(Format(r.TrainLoss)).Append(',')
            .Append(r.ValidationLoss is { } v ? Format(v) : "").Append(',')
            .Append(Format(r.LearningRate)).Append(',')
            .Append(Format(r.GradientNorm)).Append(',')
            .Append(Format(r.TokensPerSecond)).Append(',')
            .Append(Format(r.ElapsedSeconds)).Append('\n');
        writer.Write(line);
    }

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static List<LossRecord> ReadRows(string path, bool dropCutLastLine)
    {
        // Shared with a writer: the log of a running job can be read and plotted.
        string text;
        using (var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete), Encoding.UTF8))
            text = reader.ReadToEnd();
        string[] lines = text.Split('\n');
        if (lines[0].TrimEnd('\r') != Header)
            throw new InvalidDataException($"{path}: not a loss log; the first line should be \"{Header}\"");

        // Split leaves an empty string after the final newline; a last line without one was cut off mid-write.
        bool lastLineCut = lines[^1].Length > 0;
        var records = new List<LossRecord>(lines.Length);
        for (int i = 1; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r');
            if (line.Length == 0)
                continue;
            bool isLast = i == lines.Length - 1;
            if (isLast && lastLineCut && dropCutLastLine)
                break;
            records.Add(ParseRow(line, path, lineNumber: i + 1));
        }

        return records;
    }

    private static LossRecord ParseRow(string line, string path, int lineNumber)
    {
        string[] cells = line.Split(',');
        if (cells.Length != ColumnCount)
            throw new InvalidDataException($"{path}: line {lineNumber} has {cells.Length} columns, not the {ColumnCount} of \"{Header}\"");

        return new LossRecord(
            Step: (int)ParseInteger(0, int.MaxValue),
            Tokens: ParseInteger(1, long.MaxValue),
            TrainLoss: ParseNumber(2),
            ValidationLoss: cells[3].Length == 0 ? null : ParseNumber(3),
            LearningRate: ParseNumber(4),
            GradientNorm: ParseNumber(5),
            TokensPerSecond: ParseNumber(6),
            ElapsedSeconds: ParseNumber(7));

        long ParseInteger(int column, long max) =>
            long.TryParse(cells[column], NumberStyles.None, CultureInfo.InvariantCulture, out long v) && v <= max
                ? v
                : throw Bad(column, "a whole number");

        double ParseNumber(int column) =>
            double.TryParse(cells[column], NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
                ? v
                : throw Bad(column, "a number");

        InvalidDataException Bad(int column, string wanted) =>
            new($"{path}: line {lineNumber}: {Header.Split(',')[column]} is \"{cells[column]}\", not {wanted}");
    }
}
