using System.Globalization;
using Tern.Cuda;
using Tern.Cuda.DeviceTests;

// Checks Tern.Cuda on a real GPU: one PASS or FAIL line per check, a closing "N passed, M failed", and a nonzero exit
// code when anything failed. `--seed N` repeats a run's random inputs (the seed is printed).
// `--models A.gguf,B.gguf` adds the inference backend's agreement with the CPU engine on those models.
int seed = Environment.TickCount & int.MaxValue;
var models = new List<string>();
for (int i = 0; i + 1 < args.Length; i += 2)
{
    if (args[i] == "--seed")
        seed = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
    else if (args[i] == "--models")
        models.AddRange(args[i + 1].Split(',', StringSplitOptions.RemoveEmptyEntries));
}
Console.WriteLine($"Tern.Cuda device checks (seed {seed}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC)");

if (!CudaAvailability.TryCreate(out CudaContext? context, out string whyNot))
{
    Console.WriteLine($"FAIL  CUDA availability: {whyNot}");
    Console.WriteLine("0 passed, 1 failed");
    return 1;
}

var runner = new DeviceCheckRunner();
var random = new Random(seed);
using (context)
{
    DeviceAndMemoryChecks.Run(runner, context, random);
    var compiler = new KernelCompiler(context);
    Console.WriteLine($"      kernel cache: {compiler.CacheDirectory}");
    KernelChecks.Run(runner, context, compiler, random);
    GemmChecks.Run(runner, context, random);
    GraphAndTimingChecks.Run(runner, context, compiler, random);
    ArgMaxChecks.Run(runner, context, compiler, random);
    InferenceChecks.Run(runner, context, compiler, random, models);
}

Console.WriteLine($"{runner.Passed} passed, {runner.Failed} failed");
return runner.Failed == 0 ? 0 : 1;
