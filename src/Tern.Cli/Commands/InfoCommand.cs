using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Spectre.Console;
using Tern.Gguf;

namespace Tern.Cli.Commands;

/// <summary>`tern info MODEL [--json]`: architecture, metadata, tensors and parameter counts of a GGUF file.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var model = new Argument<FileInfo>("MODEL") { Description = "A GGUF file." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of tables." };
        var allMetadata = new Option<bool>("--all") { Description = "Show every metadata value in full width." };
        var command = new Command("info", "Describe a GGUF file: architecture, metadata, tensors (type, shape, bytes, bits per weight), parameter counts.")
        {
            model, json, allMetadata,
        };
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            using var file = GgufFile.Open(parse.GetRequiredValue(model).FullName);
            if (parse.GetValue(json))
                Console.Out.Write(ToJson(file));
            else
                Render(file, parse.GetValue(allMetadata));
            return 0;
        }));
        return command;
    }

    private static void Render(GgufFile file, bool full)
    {
        var summary = GgufSummary.Of(file);
        var console = AnsiConsole.Console;
        console.MarkupLine($"[bold]{Markup.Escape(file.Path)}[/]");
        console.MarkupLine($"GGUF v{file.Version}, {Formatting.Bytes(file.FileLength)}, {file.Tensors.Count} tensors, {file.Metadata.Count} metadata keys, alignment {file.Alignment}");
        console.MarkupLine($"architecture: [bold]{Markup.Escape(file.Metadata.Architecture ?? "(none)")}[/]" +
            (file.Metadata.GetStringOrDefault(GgufKeys.Name) is { } name ? $", name: {Markup.Escape(name)}" : ""));
        if (file.UsesAmbiguousTypeIds)
            console.MarkupLine($"[yellow]note:[/] {Markup.Escape(file.DialectReason)}");

        var meta = new Table().Title("metadata").AddColumn("key").AddColumn("type").AddColumn("value");
        foreach (var (key, value) in file.Metadata)
        {
            string type = value.IsArray ? $"array<{value.ElementType.ToString().ToLowerInvariant()}>" : value.Type.ToString().ToLowerInvariant();
            meta.AddRow(Markup.Escape(key), type, Markup.Escape(Formatting.Value(value, full ? 4000 : 70)));
        }

        console.Write(meta);

        var tensors = new Table().Title("tensors").AddColumn("name").AddColumn("type").AddColumn("shape")
            .AddColumn(new TableColumn("bytes").RightAligned()).AddColumn(new TableColumn("bits/weight").RightAligned());
        foreach (var t in file.Tensors)
        {
            tensors.AddRow(Markup.Escape(t.Name), t.TypeInfo.Name, t.ShapeText, t.ByteSize.ToString("N0", CultureInfo.InvariantCulture),
                BitsPerWeight(t).ToString("0.###", CultureInfo.InvariantCulture));
        }

        console.Write(tensors);

        var counts = new Table().Title("parameters").AddColumn("").AddColumn(new TableColumn("count").RightAligned()).AddColumn(new TableColumn("bytes").RightAligned());
        counts.AddRow("ternary", $"{summary.TernaryParameters:N0} ({Formatting.Count(summary.TernaryParameters)})", Formatting.Bytes(summary.TernaryBytes));
        counts.AddRow("other", $"{summary.OtherParameters:N0} ({Formatting.Count(summary.OtherParameters)})", Formatting.Bytes(summary.OtherBytes));
        counts.AddRow("total", $"{summary.TotalParameters:N0} ({Formatting.Count(summary.TotalParameters)})", Formatting.Bytes(file.FileLength) + " file");
        foreach (var (type, n) in summary.ParametersByType)
            counts.AddRow($"  {type}", n.ToString("N0", CultureInfo.InvariantCulture), "");
        console.Write(counts);
        if (summary.TernaryParameters > 0)
            console.MarkupLine($"ternary tensors: {summary.TernaryBitsPerWeight.ToString("0.###", CultureInfo.InvariantCulture)} bits per weight");
    }

    private static double BitsPerWeight(GgufTensorInfo t) => t.ElementCount == 0 ? 0 : 8.0 * t.ByteSize / t.ElementCount;

    private static string ToJson(GgufFile file)
    {
        var summary = GgufSummary.Of(file);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("path", file.Path);
            w.WriteNumber("file_size", file.FileLength);
            w.WriteNumber("gguf_version", file.Version);
            w.WriteNumber("alignment", file.Alignment);
            w.WriteNumber("data_offset", file.DataOffset);
            if (file.Metadata.Architecture is { } arch)
                w.WriteString("architecture", arch);
            else
                w.WriteNull("architecture");
            if (file.UsesAmbiguousTypeIds)
                w.WriteString("type_id_dialect", file.Dialect == GgmlTypeDialect.BitNetCpp ? "bitnet.cpp" : "upstream");
            else
                w.WriteNull("type_id_dialect");
            w.WriteString("type_id_dialect_reason", file.DialectReason);

            w.WriteStartObject("metadata");
            foreach (var (key, value) in file.Metadata)
            {
                w.WritePropertyName(key);
                WriteValue(w, value);
            }

            w.WriteEndObject();

            w.WriteStartArray("tensors");
            foreach (var t in file.Tensors)
            {
                w.WriteStartObject();
                w.WriteString("name", t.Name);
                w.WriteString("type", t.TypeInfo.Name);
                w.WriteNumber("type_id", t.TypeInfo.FileId);
                w.WriteStartArray("shape");
                foreach (var d in t.Shape)
                    w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteNumber("elements", t.ElementCount);
                w.WriteNumber("offset", t.Offset);
                w.WriteNumber("bytes", t.ByteSize);
                w.WriteNumber("bits_per_weight", Math.Round(BitsPerWeight(t), 4));
                w.WriteEndObject();
            }

            w.WriteEndArray();

            w.WriteStartObject("parameters");
            w.WriteNumber("ternary", summary.TernaryParameters);
            w.WriteNumber("other", summary.OtherParameters);
            w.WriteNumber("total", summary.TotalParameters);
            w.WriteNumber("ternary_bytes", summary.TernaryBytes);
            w.WriteNumber("other_bytes", summary.OtherBytes);
            w.WriteNumber("ternary_bits_per_weight", Math.Round(summary.TernaryBitsPerWeight, 4));
            w.WriteStartObject("by_type");
            foreach (var (type, n) in summary.ParametersByType)
                w.WriteNumber(type, n);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + Environment.NewLine;
    }

    private static void WriteValue(Utf8JsonWriter w, GgufValue value)
    {
        if (!value.IsArray)
        {
            WriteScalar(w, value.RawValue);
            return;
        }

        w.WriteStartArray();
        foreach (var item in (Array)value.RawValue)
        {
            if (item is GgufValue inner)
                WriteValue(w, inner);
            else
                WriteScalar(w, item);
        }

        w.WriteEndArray();
    }

    private static void WriteScalar(Utf8JsonWriter w, object o)
    {
        switch (o)
        {
            case string s: w.WriteStringValue(s); break;
            case bool b: w.WriteBooleanValue(b); break;
            case float f when float.IsFinite(f): w.WriteNumberValue(f); break;
            case double d when double.IsFinite(d): w.WriteNumberValue(d); break;
            case float or double: w.WriteStringValue(Convert.ToString(o, CultureInfo.InvariantCulture)); break;
            case ulong u: w.WriteNumberValue(u); break;
            default: w.WriteNumberValue(Convert.ToInt64(o, CultureInfo.InvariantCulture)); break;
        }
    }
}
