using System.Reflection;

namespace Tern.Cuda;

/// <summary>
/// CUDA C++ source for NVRTC and the name it is known by: the name appears in compiler messages, in line
/// information and in the cache file's name. Kernels a module exports should be <c>extern "C"</c> so they keep
/// their plain names.
/// </summary>
public sealed record KernelSource(string Name, string Text)
{
    /// <summary>Source held in memory, e.g. generated code or a test.</summary>
    public static KernelSource FromText(string name, string text)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(text);
        return new KernelSource(name, text);
    }

    /// <summary>
    /// A .cu file embedded in <paramref name="assembly"/>: <paramref name="resourceName"/> is the manifest name, or
    /// its end after a dot (a project's <c>Kernels/vector_add.cu</c> is found as "vector_add.cu").
    /// </summary>
    public static KernelSource FromResource(Assembly assembly, string resourceName)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        ArgumentException.ThrowIfNullOrWhiteSpace(resourceName);
        string[] names = assembly.GetManifestResourceNames();
        string? match = Array.Find(names, name => name == resourceName)
            ?? names.SingleOrDefault(name => name.EndsWith("." + resourceName, StringComparison.Ordinal)
                || name.EndsWith("/" + resourceName, StringComparison.Ordinal));
        if (match is null)
        {
            string available = string.Join(", ", names.Where(name => name.EndsWith(".cu", StringComparison.Ordinal) || name.EndsWith(".cuh", StringComparison.Ordinal)));
            throw new FileNotFoundException(
                $"{assembly.GetName().Name} has no embedded kernel source '{resourceName}' (it has: {(available.Length == 0 ? "none" : available)})",
                resourceName);
        }
        using Stream stream = assembly.GetManifestResourceStream(match)!;
        using var reader = new StreamReader(stream);
        return new KernelSource(resourceName, reader.ReadToEnd());
    }
}
