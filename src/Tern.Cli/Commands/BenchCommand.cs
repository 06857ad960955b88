using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Spectre.Console;
using Tern.Gguf;
using Tern.Inference;

namespace Tern.Cli.Commands;

/// <summary>
/// `tern bench -m MODEL [-p 512] [-n 128] [-t T] [-r 5] [--json | -o json] [--head-type T]`: one row per test (pp512: a prompt of
/// random tokens; tg128: tokens generated one by one), mean ± sd tokens/s over the repetitions after one warm-up, in
/// llama-bench's table shape; the JSON uses llama-bench's field names so scripts read both.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo>("--model", "-m") { Description = "The GGUF model.", Required = true };
        var prompt = new Option<int>("--n-prompt", "-p") { Description = "Prompt tokens of the pp test (0 skips it).", DefaultValueFactory = _ => 512 };
        var gen = new Option<int>("--n-gen", "-n") { Description = "Generated tokens of the tg test (0 skips it).", DefaultValueFactory = _ => 128 };
        var reps = new Option<int>("--repetitions", "-r") { Description = "Repetitions of each test.", DefaultValueFactory = _ => 5 };
        var json = new Option<bool>("--json") { Description = "Print llama-bench's JSON instead of the table." };
        var output = new Option<string>("--output", "-o") { Description = "Output format: md (the table) or json.", DefaultValueFactory = _ => "md" };
        output.AcceptOnlyFromAmong("md", "json");
        var command = new Command("bench", "Measure prompt processing (pp) and generation (tg) speed, as llama-bench does.")
        {
            model, prompt, gen, reps, json, output,
        };
        var load = new ModelLoadOptions();
        load.AddTo(command);
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            int p = parse.GetValue(prompt), n = parse.GetValue(gen), r = parse.GetValue(reps);
            if (p < 0 || n < 0)
                throw new ArgumentException($"-p {p} -n {n}: token counts must be 0 or more");
            if (r < 1)
                throw new ArgumentException($"-r {r}: at least one repetition is needed");

            string path = parse.GetRequiredValue(model).FullName;
            using var placed = load.Read(parse);
            using var loaded = placed.Load(path);
            if (p + n + 1 > loaded.Config.ContextLength)
                throw new ArgumentException($"-p {p} and -n {n} need {p + n + 1} positions; the model's context is {loaded.Config.ContextLength}");
            var results = new List<BenchResult>();
            int threadsUsed = loaded.Threads;
            if (p > 0)
                results.Add(Measure(loaded, $"pp{p}", p, 0, r, threadsUsed));
            if (n > 0)
                results.Add(Measure(loaded, $"tg{n}", 0, n, r, threadsUsed));

            var info = ModelInfo.Read(path, loaded.Config.Architecture);
            var backend = BackendInfo.Of(loaded, placed);
            if (parse.GetValue(json) || parse.GetValue(output) == "json")
                Console.Out.Write(ToJson(info, backend, results));
            else
                PrintTable(info, backend, results);
            return 0;
        }));
        return command;
    }

    private sealed record BenchResult(string Test, int Prompt, int Generated, int Threads, double[] SamplesNs)
    {
        private int Tokens => Prompt + Generated;

        public double[] SamplesTs => SamplesNs.Select(ns => Tokens / (ns / 1e9)).ToArray();

        public double AvgNs => SamplesNs.Average();

        public double StddevNs => StdDev(SamplesNs);

        public double AvgTs => SamplesTs.Average();

        public double StddevTs => StdDev(SamplesTs);

        private static double StdDev(double[] v) => v.Length < 2 ? 0 : Math.Sqrt(v.Sum(x => (x - v.Average()) * (x - v.Average())) / (v.Length - 1));
    }

    /// <summary>What llama-bench prints about the model, read once from the file.</summary>
    private sealed record ModelInfo(string Path, long Size, long Parameters, string Type)
    {
        public static ModelInfo Read(string path, string architecture)
        {
            using var file = GgufFile.Open(path);
            long parameters = GgufSummary.Of(file).TotalParameters;
            var ternary = file.Tensors.Where(t => t.TypeInfo.IsTernary).Select(t => t.TypeInfo.Name).Distinct().ToList();
            string weights = ternary.Count > 0 ? string.Join("/", ternary) : file.Tensors.GroupBy(t => t.TypeInfo.Name).MaxBy(g => g.Sum(t => t.ElementCount))!.Key;
            return new ModelInfo(path, file.FileLength, parameters, $"{architecture} {Formatting.Count(parameters)} {weights}");
        }
    }

    /// <summary>
    /// Where the model computed, in llama-bench's terms: its backend column ("CPU", "CUDA"), the blocks on the GPU
    /// (ngl), the GPU, the overrides; <see cref="Placement"/> is Tern's own line for it (<see cref="TernModel.Backend"/>).
    /// </summary>
    private sealed record BackendInfo(string Name, int GpuLayers, string GpuInfo, int MainGpu, string Overrides, string Placement)
    {
        public bool UsesGpu => Name != "CPU";

        public static BackendInfo Of(TernModel model, ModelLoad load)
        {
            if (model.Offload is not { } device || load.Accelerator is not { } gpu)
                return new BackendInfo("CPU", 0, "", 0, "none", model.Backend);
            var overrides = load.Placement.Overrides;
            return new BackendInfo("CUDA", model.Config.BlockCount - device.FirstLayer, gpu.Description, load.MainGpu,
                overrides.Count == 0 ? "none" : string.Join(';', overrides), model.Backend);
        }
    }

    /// <summary>llama-bench's method: random tokens, a warm-up run, then the timed repetitions, each in a fresh context.</summary>
    private static BenchResult Measure(TernModel model, string name, int promptTokens, int genTokens, int repetitions, int threads)
    {
        var rng = new Random(1234);
        var samples = new double[repetitions];
        // One cache for every repetition, emptied before each as llama-bench clears its own: a cache per repetition
        // would leave the garbage collector several to free and inflate resident memory.
        using var session = model.CreateSession(promptTokens + genTokens + 1);
        for (int rep = -1; rep < repetitions; rep++)
        {
            session.Rewind(0);
            var prompt = new int[promptTokens];
            for (int i = 0; i < prompt.Length; i++)
                prompt[i] = rng.Next(model.Config.VocabSize);
            var clock = Stopwatch.StartNew();
            if (prompt.Length > 0)
                session.Evaluate(prompt);
            int token = rng.Next(model.Config.VocabSize);
            for (int i = 0; i < genTokens; i++)
                token = session.EvaluateGreedy(token);
            if (rep >= 0)
                samples[rep] = clock.Elapsed.TotalNanoseconds;
        }

        return new BenchResult(name, promptTokens, genTokens, threads, samples);
    }

    /// <summary>llama-bench's table; as there, the ngl column only when a GPU computes, and Tern's placement line under it.</summary>
    private static void PrintTable(ModelInfo info, BackendInfo backend, List<BenchResult> results)
    {
        var table = new Table().AddColumn("model").AddColumn(new TableColumn("size").RightAligned()).AddColumn(new TableColumn("params").RightAligned())
            .AddColumn("backend");
        if (backend.UsesGpu)
            table.AddColumn(new TableColumn("ngl").RightAligned());
        table.AddColumn(new TableColumn("threads").RightAligned()).AddColumn(new TableColumn("test").RightAligned()).AddColumn(new TableColumn("t/s").RightAligned());
        foreach (var r in results)
        {
            var cells = new List<string> { Markup.Escape(info.Type), Formatting.Bytes(info.Size), Formatting.Count(info.Parameters), backend.Name };
            if (backend.UsesGpu)
                cells.Add(backend.GpuLayers.ToString(CultureInfo.InvariantCulture));
            cells.AddRange([r.Threads.ToString(CultureInfo.InvariantCulture), r.Test, string.Create(CultureInfo.InvariantCulture, $"{r.AvgTs:F2} ± {r.StddevTs:F2}")]);
            table.AddRow([.. cells]);
        }

        if (backend.UsesGpu)
            table.Caption = new TableTitle(Markup.Escape(backend.Placement));
        AnsiConsole.Write(table);
    }

    private static string ToJson(ModelInfo info, BackendInfo backend, List<BenchResult> results)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartArray();
            foreach (var r in results)
            {
                w.WriteStartObject();
                w.WriteString("build_commit", "tern");
                w.WriteString("cpu_info", "");
                w.WriteString("gpu_info", backend.GpuInfo);
                w.WriteString("backends", backend.Name);
                w.WriteString("model_filename", info.Path);
                w.WriteString("model_type", info.Type);
                w.WriteNumber("model_size", info.Size);
                w.WriteNumber("model_n_params", info.Parameters);
                w.WriteNumber("n_threads", r.Threads);
                w.WriteNumber("n_gpu_layers", backend.GpuLayers);
                w.WriteNumber("main_gpu", backend.MainGpu);
                w.WriteString("tensor_buft_overrides", backend.Overrides);
                w.WriteString("placement", backend.Placement);
                w.WriteNumber("n_prompt", r.Prompt);
                w.WriteNumber("n_gen", r.Generated);
                w.WriteString("test_time", DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
                w.WriteNumber("avg_ns", (long)r.AvgNs);
                w.WriteNumber("stddev_ns", (long)r.StddevNs);
                w.WriteNumber("avg_ts", Math.Round(r.AvgTs, 6));
                w.WriteNumber("stddev_ts", Math.Round(r.StddevTs, 6));
                w.WriteStartArray("samples_ns");
                foreach (var s in r.SamplesNs)
                    w.WriteNumberValue((long)s);
                w.WriteEndArray();
                w.WriteStartArray("samples_ts");
                foreach (var s in r.SamplesTs)
                    w.WriteNumberValue(Math.Round(s, 6));
                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + Environment.NewLine;
    }
}
