using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Tern.Conversion;
using Tern.Gguf;
using Tern.Runtime;
using Tern.Training.Cuda;
using Tern.Training.Data;
using Tern.Training.Export;
using Tern.Training.Model;
using Tern.Training.Reporting;
using Tern.Training.Runs;

namespace Tern.Cli.Commands;

/// <summary>
/// `tern train --data FILE --out DIR [--arch bitnet-b1.58|llama] [--layers --dim --heads --kv-heads --ffn --ctx]
/// [--batch --steps --lr --warmup --weight-decay --dropout --attention-dropout --grad-clip --seed] [--fp] [--device cpu|cuda]
/// [--tokenizer FILE] [--resume] [--export-type TYPE] [--compare DIR]`: trains a model with BitNet b1.58 QAT
/// (or in full precision with --fp) and leaves in DIR the checkpoint, loss.csv, loss.png and model.gguf.
/// </summary>
internal static class TrainCommand
{
    public const string ModelFileName = "model.gguf";
    public const string PlotFileName = "loss.png";
    public const string CommandFileName = "command.txt";

    public static Command Create()
    {
        var data = new Option<FileInfo>("--data") { Description = "UTF-8 text to train on (the last tenth is the validation split).", Required = true };
        var outDir = new Option<DirectoryInfo>("--out") { Description = "Folder for the checkpoint, loss.csv, loss.png and model.gguf.", Required = true };
        var tokenizer = new Option<string>("--tokenizer") { Description = "bytes (256 byte tokens, the default), or a GGUF, SentencePiece .model or tiktoken file whose vocabulary to use.", DefaultValueFactory = _ => "bytes" };
        var arch = new Option<string>("--arch") { Description = "bitnet-b1.58 (ReLU² FFN, sub-norms) or llama (SiLU FFN).", DefaultValueFactory = _ => "bitnet-b1.58" };
        arch.AcceptOnlyFromAmong("bitnet-b1.58", "llama");
        var layers = new Option<int>("--layers") { Description = "Transformer blocks.", DefaultValueFactory = _ => 4 };
        var dim = new Option<int>("--dim") { Description = "Width of the residual stream.", DefaultValueFactory = _ => 256 };
        var heads = new Option<int>("--heads") { Description = "Attention heads.", DefaultValueFactory = _ => 4 };
        var kvHeads = new Option<int?>("--kv-heads") { Description = "Key/value heads (default: --heads)." };
        var ffn = new Option<int?>("--ffn") { Description = "FFN width (default: 8/3 of --dim, rounded up to 256 so that every ternary type holds its rows)." };
        var ctx = new Option<int>("--ctx") { Description = "Context length trained on.", DefaultValueFactory = _ => 256 };
        var ropeTheta = new Option<float>("--rope-theta") { Description = "RoPE base.", DefaultValueFactory = _ => 10000f };
        var untied = new Option<bool>("--untied") { Description = "A separate output head instead of the token embedding." };
        var batch = new Option<int>("--batch") { Description = "Sequences per step.", DefaultValueFactory = _ => 16 };
        var steps = new Option<int>("--steps") { Description = "Optimizer steps.", DefaultValueFactory = _ => 1000 };
        var lr = new Option<double?>("--lr") { Description = "Peak learning rate (default: 1.5e-3 QAT, 1e-3 with --fp)." };
        var warmup = new Option<int?>("--warmup") { Description = "Warmup steps (default: min(100, steps/10))." };
        var weightDecay = new Option<double>("--weight-decay") { Description = "AdamW weight decay (QAT: first stage only).", DefaultValueFactory = _ => 0.1 };
        var schedule = new Option<string?>("--schedule") { Description = "two-stage (QAT default) or cosine (--fp default)." };
        schedule.AcceptOnlyFromAmong("two-stage", "cosine");
        var dropAt = new Option<double?>("--lr-drop-at") { Description = "Two-stage schedule: where the rate drops, as a fraction of the steps (0.5)." };
        var beforeDrop = new Option<double?>("--lr-before-drop") { Description = "Two-stage schedule: the rate just before the drop, as a fraction of the peak (0.5)." };
        var afterDrop = new Option<double?>("--lr-after-drop") { Description = "Two-stage schedule: the rate just after the drop, as a fraction of the peak (0.2)." };
        var finalRatio = new Option<double?>("--lr-final") { Description = "The last step's rate as a fraction of the peak (two-stage 0.02, cosine 0.1)." };
        var beta1 = new Option<double>("--beta1") { Description = "AdamW β1.", DefaultValueFactory = _ => 0.9 };
        var beta2 = new Option<double>("--beta2") { Description = "AdamW β2.", DefaultValueFactory = _ => 0.95 };
        var adamEps = new Option<double>("--adam-eps") { Description = "AdamW ε.", DefaultValueFactory = _ => 1e-8 };
        var dropout = new Option<double>("--dropout") { Description = "Dropout probability.", DefaultValueFactory = _ => 0.0 };
        var attentionDropout = new Option<double>("--attention-dropout") { Description = "Dropout probability of the attention weights (after the softmax).", DefaultValueFactory = _ => 0.0 };
        var gradClip = new Option<double>("--grad-clip") { Description = "Clip gradients to this global norm (0: off).", DefaultValueFactory = _ => 1.0 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the initialization, batches and dropout.", DefaultValueFactory = _ => 1337UL };
        var fp = new Option<bool>("--fp") { Description = "Train the full-precision baseline of the same model (no quantization)." };
        var device = new Option<string>("--device") { Description = "cpu or cuda.", DefaultValueFactory = _ => "cpu" };
        device.AcceptOnlyFromAmong("cpu", "cuda");
        var evalInterval = new Option<int>("--eval-interval") { Description = "Steps between validation losses.", DefaultValueFactory = _ => 100 };
        var evalBatches = new Option<int>("--eval-batches") { Description = "Batches of validation windows per evaluation.", DefaultValueFactory = _ => 8 };
        var checkpointInterval = new Option<int>("--checkpoint-interval") { Description = "Steps between checkpoints (0: only at the end).", DefaultValueFactory = _ => 500 };
        var resume = new Option<bool>("--resume") { Description = "Continue from the checkpoint in --out (give the same flags as the run that wrote it)." };
        var exportType = new Option<string?>("--export-type") { Description = "Type of the exported projections: i2_s (QAT default), tq2_0, tq1_0, f16 (--fp default), bf16, f32." };
        exportType.AcceptOnlyFromAmong("i2_s", "tq2_0", "tq1_0", "f16", "bf16", "f32");
        var compare = new Option<DirectoryInfo[]>("--compare") { Description = "Other runs' folders whose losses loss.png shows beside this one.", AllowMultipleArgumentsPerToken = true };
        var name = new Option<string?>("--name") { Description = "general.name of the exported model." };
        var threads = new Option<int>("--threads", "-t") { Description = "Threads (default: the physical cores).", DefaultValueFactory = _ => PhysicalCores.Value };

        var command = new Command("train", "Train a BitNet b1.58 (or full-precision) LLaMA-style model on a text file and export it to GGUF.")
        {
            data, outDir, tokenizer, arch, layers, dim, heads, kvHeads, ffn, ctx, ropeTheta, untied, batch, steps, lr, warmup,
            weightDecay, schedule, dropAt, beforeDrop, afterDrop, finalRatio, beta1, beta2, adamEps, dropout, attentionDropout, gradClip, seed, fp, device, evalInterval, evalBatches, checkpointInterval, resume,
            exportType, compare, name, threads,
        };
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            bool cuda = parse.GetRequiredValue(device) == "cuda";
            string folder = parse.GetRequiredValue(outDir).FullName;
            var vocabulary = parse.GetRequiredValue(tokenizer) == "bytes" ? TrainingVocabulary.Bytes() : TrainingVocabulary.FromFile(parse.GetRequiredValue(tokenizer));
            int width = parse.GetValue(dim);
            bool quantized = !parse.GetValue(fp);
            var shape = new ModelShape
            {
                Architecture = TrainingArchitectures.Parse(parse.GetRequiredValue(arch)),
                VocabularySize = vocabulary.VocabularySize,
                Dim = width,
                Layers = parse.GetValue(layers),
                Heads = parse.GetValue(heads),
                KvHeads = parse.GetValue(kvHeads) ?? parse.GetValue(heads),
                FfnDim = parse.GetValue(ffn) ?? ((((width * 8) / 3) + 255) / 256 * 256),
                Context = parse.GetValue(ctx),
                RopeTheta = parse.GetValue(ropeTheta),
                TiedEmbedding = !parse.GetValue(untied),
                Quantized = quantized,
            };
            var options = new TrainingOptions
            {
                Shape = shape,
                BatchSize = parse.GetValue(batch),
                Steps = parse.GetValue(steps),
                LearningRate = parse.GetValue(lr),
                WarmupSteps = parse.GetValue(warmup),
                WeightDecay = parse.GetValue(weightDecay),
                TwoStageSchedule = parse.GetValue(schedule) is { } s ? s == "two-stage" : null,
                DropAt = parse.GetValue(dropAt),
                BeforeDrop = parse.GetValue(beforeDrop),
                AfterDrop = parse.GetValue(afterDrop),
                FinalRatio = parse.GetValue(finalRatio),
                Beta1 = parse.GetValue(beta1),
                Beta2 = parse.GetValue(beta2),
                AdamEpsilon = parse.GetValue(adamEps),
                Dropout = parse.GetValue(dropout),
                AttentionDropout = parse.GetValue(attentionDropout),
                GradientClip = parse.GetValue(gradClip),
                Seed = parse.GetValue(seed),
                EvalInterval = parse.GetValue(evalInterval),
                EvalBatches = parse.GetValue(evalBatches),
                CheckpointInterval = parse.GetValue(checkpointInterval),
            };
            options.Validate();
            string typeName = parse.GetValue(exportType) ?? (quantized ? "i2_s" : "f16");
            var weightType = Types.Parse(typeName, "--export-type");
            CheckExportable(shape, weightType, typeName);
            var corpus = TextCorpus.Load(parse.GetRequiredValue(data).FullName, vocabulary, shape.Context);
            using var pool = new WorkerPool(Math.Max(1, parse.GetValue(threads)));
            TrainingLoop trainer;
            if (!cuda)
            {
                trainer = new Trainer(options, corpus, folder, pool);
            }
            else if (CudaTrainer.TryCreate(options, corpus, folder, out var gpuTrainer, out string whyNot))
            {
                trainer = gpuTrainer;
            }
            else
            {
                throw new NotSupportedException($"--device cuda: {whyNot.TrimEnd('.')}; train with --device cpu");
            }

            using var disposeTrainer = trainer as IDisposable;
            if (parse.GetValue(resume))
                trainer.Resume();
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, CommandFileName), "tern " + string.Join(' ', parse.Tokens.Select(t => Quote(t.Value))) + Environment.NewLine);

            var stderr = Consoles.CreateStderr();
            stderr.MarkupLine(Markup.Escape(
                $"{shape.Architecture.GgufName()}{(quantized ? " (BitNet b1.58 QAT)" : " (full precision)")}: {trainer.Layout.Count:N0} parameters, " +
                $"{shape.Layers} layers × {shape.Dim} wide, {shape.Heads}/{shape.KeyValueHeads} heads, FFN {shape.FfnDim}, context {shape.Context}; " +
                $"{vocabulary.Description}; {corpus.TrainCount:N0} training and {corpus.ValidationCount:N0} validation tokens; {(trainer is CudaTrainer gpu ? gpu.DeviceName : $"{pool.Threads} threads")}"));

            using var cancel = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) =>
            {
                e.Cancel = true;
                cancel.Cancel();
            };
            Console.CancelKeyPress += onCancel;
            try
            {
                TrainingProgressDisplay.Run(options.Steps, trainer.Step, progress => trainer.Run(progress, cancel.Token));
            }
            catch (OperationCanceledException)
            {
                stderr.MarkupLine(Markup.Escape($"stopped at step {trainer.Step}; the checkpoint is in {trainer.CheckpointPath} (--resume continues)"));
                return 130;
            }
            catch (TrainingDivergedException e)
            {
                stderr.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
                return CommandErrors.BadInput;
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }

            var runs = new List<LossRun> { LossRun.FromCsv(quantized ? "BitNet b1.58" : "full precision", Path.Combine(folder, Trainer.LossLogFileName)) };
            foreach (var other in parse.GetValue(compare) ?? [])
                runs.Add(LossRun.FromCsv(other.Name, Path.Combine(other.FullName, Trainer.LossLogFileName)));
            LossPlot.Write(Path.Combine(folder, PlotFileName), runs, new LossPlotOptions { Title = $"{shape.Architecture.GgufName()} on {Path.GetFileName(corpus.Name)}" });

            string modelPath = Path.Combine(folder, ModelFileName);
            using (var source = new TrainedModelSource(trainer.Layout, trainer.ReadParameters(), vocabulary.TokenizerData, parse.GetValue(name) ?? Path.GetFileName(folder)))
            {
                var plan = ModelConverter.Plan(source, new ConversionOptions { WeightType = weightType, TokenEmbeddingType = GgmlType.F32, OutputTensorType = GgmlType.F32 });
                ModelConverter.Write(plan, modelPath);
            }

            var last = LossLog.Read(Path.Combine(folder, Trainer.LossLogFileName)).LastOrDefault(r => r.ValidationLoss is not null);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"step {trainer.Step}: validation loss {last?.ValidationLoss:F4}; wrote {modelPath} ({Formatting.Bytes(new FileInfo(modelPath).Length)}), {Path.Combine(folder, Trainer.LossLogFileName)}, {Path.Combine(folder, PlotFileName)}"));
            return 0;
        }));
        return command;
    }

    /// <summary>Fails before training, not after it, when the export type cannot hold the projections' rows.</summary>
    private static void CheckExportable(ModelShape shape, GgmlType type, string typeName)
    {
        int block = GgmlTypeTraits.Get(type).BlockSize;
        foreach (var (what, length) in new[] { ("--dim", shape.Dim), ("the attention width (--heads × head size)", shape.QueryDim), ("--ffn", shape.FfnDim) })
        {
            if (length % block != 0)
                throw new ArgumentException($"{what} is {length}; --export-type {typeName} stores rows in blocks of {block}, so it must be a multiple of {block}");
        }
    }

    private static string Quote(string s) => s.Any(char.IsWhiteSpace) ? $"\"{s}\"" : s;
}
