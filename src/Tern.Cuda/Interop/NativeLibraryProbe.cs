using System.Runtime.InteropServices;

namespace Tern.Cuda.Interop;

/// <summary>
/// Finds one NVIDIA library at run time: each file name in order of preference (the newest major version first), and
/// for each name the directories of <c>TERN_CUDA_LIBRARY_PATH</c>, then the system's own search (LD_LIBRARY_PATH,
/// the ldconfig cache), then the places CUDA installs itself. Loaded once; a failure is remembered with a sentence
/// that names every file tried, so the assembly itself never depends on CUDA being present.
/// </summary>
internal sealed class NativeLibraryProbe
{
    private readonly string _description;
    private readonly string[] _fileNames;
    private readonly Func<IEnumerable<string>> _directories;
    private readonly Lazy<(nint Handle, string? Path)> _loaded;

    public NativeLibraryProbe(string description, string[] fileNames, Func<IEnumerable<string>> directories)
    {
        _description = description;
        _fileNames = fileNames;
        _directories = directories;
        _loaded = new Lazy<(nint, string?)>(Load, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The library's handle, or 0 when none of its files could be loaded.</summary>
    public nint Handle => _loaded.Value.Handle;

    /// <summary>The name or path that loaded, or null.</summary>
    public string? LoadedFrom => _loaded.Value.Path;

    public bool IsLoaded => Handle != 0;

    /// <summary>
    /// One sentence, without its full stop, for a user when the library is missing, e.g. "CUDA's run-time compiler
    /// NVRTC could not be loaded (tried libnvrtc.so.13, libnvrtc.so.12); install it or add its folder to …".
    /// </summary>
    public string NotFoundMessage =>
        $"{_description} could not be loaded (tried {string.Join(", ", _fileNames)}); install it or add its folder to " +
        (OperatingSystem.IsWindows() ? "PATH" : "LD_LIBRARY_PATH") + " or TERN_CUDA_LIBRARY_PATH";

    /// <summary>The handle, or a <see cref="DllNotFoundException"/> with <see cref="NotFoundMessage"/>.</summary>
    public nint RequireHandle() =>
        IsLoaded ? Handle : throw new DllNotFoundException(NotFoundMessage + ".");

    private (nint, string?) Load()
    {
        string[] extraDirectories = UserDirectories();
        string[] standardDirectories = _directories().Where(Directory.Exists).Distinct().ToArray();
        foreach (string fileName in _fileNames)
        {
            foreach (string directory in extraDirectories)
            {
                if (TryLoadFile(Path.Combine(directory, fileName), out nint handle))
                    return (handle, Path.Combine(directory, fileName));
            }
            if (NativeLibrary.TryLoad(fileName, out nint systemHandle))
                return (systemHandle, fileName);
            foreach (string directory in standardDirectories)
            {
                if (TryLoadFile(Path.Combine(directory, fileName), out nint handle))
                    return (handle, Path.Combine(directory, fileName));
            }
        }
        return (0, null);
    }

    private static bool TryLoadFile(string path, out nint handle)
    {
        handle = 0;
        return File.Exists(path) && NativeLibrary.TryLoad(path, out handle);
    }

    private static string[] UserDirectories()
    {
        string? list = Environment.GetEnvironmentVariable("TERN_CUDA_LIBRARY_PATH");
        if (string.IsNullOrWhiteSpace(list))
            return [];
        return list.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }
}
