using Tern.Runtime;

namespace Tern.Tests.Runtime;

public class PhysicalCoresTests
{
    [Fact]
    public void PhysicalCoresAreTheDistinctCoresOfTheTopology()
    {
        int cores = PhysicalCores.Value;
        Assert.InRange(cores, 1, Environment.ProcessorCount);
        if (!OperatingSystem.IsLinux() || !File.Exists("/sys/devices/system/cpu/cpu0/topology/core_cpus_list"))
            return;

        // Another view of the same topology: the hyper-threads of one core share one core_cpus_list.
        var lists = Directory.EnumerateDirectories("/sys/devices/system/cpu", "cpu*")
            .Where(d => int.TryParse(Path.GetFileName(d).AsSpan(3), out _))
            .Select(d => Path.Combine(d, "topology", "core_cpus_list"))
            .Where(File.Exists)
            .Select(f => File.ReadAllText(f).Trim())
            .Distinct()
            .Count();
        Assert.Equal(Math.Min(lists, Environment.ProcessorCount), cores);
    }
}
