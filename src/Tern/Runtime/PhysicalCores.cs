namespace Tern.Runtime;

/// <summary>
/// The number of physical cores, the default thread count: hyper-threads share a core's vector units, so two
/// threads on one core compute no faster than one and only add synchronization. Read from Linux's CPU topology
/// (distinct package and core ids of the CPUs this process may run on); elsewhere, or if the topology cannot be
/// read, the logical processor count.
/// </summary>
public static class PhysicalCores
{
    private static readonly Lazy<int> Cached = new(Count);

    public static int Value => Cached.Value;

    private static int Count()
    {
        int logical = Environment.ProcessorCount;
        if (!OperatingSystem.IsLinux())
            return logical;
        try
        {
            var cores = new HashSet<(string Package, string Core)>();
            foreach (string cpu in Directory.EnumerateDirectories("/sys/devices/system/cpu", "cpu*"))
            {
                string topology = Path.Combine(cpu, "topology");
                if (!int.TryParse(Path.GetFileName(cpu).AsSpan(3), out _) || !Directory.Exists(topology) || !IsOnline(cpu))
                    continue;
                cores.Add((File.ReadAllText(Path.Combine(topology, "physical_package_id")).Trim(), File.ReadAllText(Path.Combine(topology, "core_id")).Trim()));
            }

            // The process may be limited to fewer CPUs than the machine has (affinity, containers).
            return cores.Count == 0 ? logical : Math.Clamp(cores.Count, 1, logical);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return logical;
        }
    }

    private static bool IsOnline(string cpu)
    {
        string online = Path.Combine(cpu, "online");
        return !File.Exists(online) || File.ReadAllText(online).Trim() == "1";
    }
}
