namespace Tern.Cuda;

/// <summary>CUDA C++ that NVRTC would not compile: the source's name, the options and NVRTC's full log.</summary>
public sealed class KernelCompilationException : Exception
{
    public KernelCompilationException(string sourceName, string log, IReadOnlyList<string> options)
        : base($"NVRTC could not compile kernel source '{sourceName}' (options: {string.Join(' ', options)}):{Environment.NewLine}{log}")
    {
        SourceName = sourceName;
        Log = log;
        Options = options;
    }

    public KernelCompilationException()
        : this("", "", [])
    {
    }

    public KernelCompilationException(string message)
        : base(message)
    {
        SourceName = Log = "";
        Options = [];
    }

    public KernelCompilationException(string message, Exception innerException)
        : base(message, innerException)
    {
        SourceName = Log = "";
        Options = [];
    }

    public string SourceName { get; }

    /// <summary>NVRTC's program log: every error and warning with its line.</summary>
    public string Log { get; }

    public IReadOnlyList<string> Options { get; }
}
