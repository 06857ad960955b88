using Tern.Cuda;
using Tern.Cuda.DeviceTests;
using Tern.Training.DeviceTests;

// Checks the CUDA trainer on a real GPU against the CPU trainer, then measures it: one PASS or FAIL line per check, a
// closing "N passed, M failed", a nonzero exit code when anything failed.
//   --corpus FILE       text for the short training run (tinyshakespeare); without it that check is skipped
//   --bench SIZES       after the checks, training throughput at these sizes (14M,110M), bfloat16 products
//   --only-bench        skip the checks
//   --seed N            the random inputs of the checks
var options = DeviceTestOptions.Parse(args);
Console.WriteLine($"Tern.Training device checks (seed {options.Seed}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC)");
if (!CudaAvailability.TryCreate(out CudaContext? context, out string whyNot))
{
    Console.WriteLine($"FAIL  CUDA availability: {whyNot}");
    Console.WriteLine("0 passed, 1 failed");
    return 1;
}

var runner = new DeviceCheckRunner();
using (context)
{
    Console.WriteLine($"      {context.Name}, {context.Architecture}, {context.MultiprocessorCount} SMs, {context.TotalMemoryBytes / (1 << 20)} MiB, driver CUDA {context.DriverVersionText}");
    var compiler = new KernelCompiler(context);
    if (!options.OnlyBench)
    {
        AgreementChecks.RunFlash(runner, context, compiler, options.Seed);
        AgreementChecks.Run(runner, context, compiler, options.Seed);
        if (options.CorpusPath is { } corpus)
            runner.Run("training on " + Path.GetFileName(corpus) + ": the loss falls", () => TrainingRunCheck.Run(context, compiler, corpus));
    }

    foreach (string size in options.BenchSizes)
        runner.Run($"throughput {size}", () => ThroughputBench.Run(context, compiler, size));
}

Console.WriteLine($"{runner.Passed} passed, {runner.Failed} failed");
return runner.Failed == 0 ? 0 : 1;
