using System.Globalization;

namespace Tern.Training.DeviceTests;

internal sealed record DeviceTestOptions(int Seed, string? CorpusPath, IReadOnlyList<string> BenchSizes, bool OnlyBench)
{
    public static DeviceTestOptions Parse(string[] args)
    {
        int seed = 1;
        string? corpus = null;
        var sizes = new List<string>();
        bool onlyBench = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--seed":
                    seed = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--corpus":
                    corpus = args[++i];
                    break;
                case "--bench":
                    sizes.AddRange(args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries));
                    break;
                case "--only-bench":
                    onlyBench = true;
                    break;
                default:
                    throw new ArgumentException($"unknown argument '{args[i]}'");
            }
        }

        return new DeviceTestOptions(seed, corpus, sizes, onlyBench);
    }
}
