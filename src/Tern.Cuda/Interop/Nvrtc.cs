using System.Runtime.InteropServices;
using System.Text;

namespace Tern.Cuda.Interop;

/// <summary>
/// NVRTC, CUDA's run-time compiler (nvrtc.h): CUDA C++ source in, PTX or a CUBIN for one architecture out. Every
/// call is checked; a failure throws <see cref="CudaException"/> with NVRTC's name for the result, except a failed
/// compilation, whose log <see cref="KernelCompiler"/> reads and reports itself.
/// </summary>
internal static unsafe partial class Nvrtc
{
    /// <summary>NVRTC_ERROR_COMPILATION: the source did not compile; the program log says why.</summary>
    public const int CompilationError = 6;

    static Nvrtc() => CudaLibraries.EnsureResolver();

    /// <summary>NVRTC's version, e.g. (13, 0).</summary>
    public static (int Major, int Minor) Version()
    {
        int major, minor;
        Check(nvrtcVersion(&major, &minor), "nvrtcVersion");
        return (major, minor);
    }

    /// <summary>The real architectures NVRTC can compile for, as 10·major + minor (75, 80, …, 90, …), ascending.</summary>
    public static int[] SupportedArchitectures()
    {
        int count;
        Check(nvrtcGetNumSupportedArchs(&count), "nvrtcGetNumSupportedArchs");
        var architectures = new int[count];
        fixed (int* values = architectures)
            Check(nvrtcGetSupportedArchs(values), "nvrtcGetSupportedArchs");
        Array.Sort(architectures);
        return architectures;
    }

    public static nint CreateProgram(string source, string name)
    {
        nint program;
        Check(nvrtcCreateProgram(&program, source, name, 0, null, null), "nvrtcCreateProgram");
        return program;
    }

    public static void DestroyProgram(nint program) => Check(nvrtcDestroyProgram(&program), "nvrtcDestroyProgram");

    /// <summary>Compiles; returns false when the source did not compile (read <see cref="GetProgramLog"/>), throws on other failures.</summary>
    public static bool CompileProgram(nint program, IReadOnlyList<string> options)
    {
        // NVRTC wants a const char* const*: the options as NUL-terminated UTF-8 strings, here one pinned block.
        byte[] text = Encoding.UTF8.GetBytes(string.Concat(options.Select(option => option + "\0")));
        nint* pointers = stackalloc nint[Math.Max(options.Count, 1)];
        fixed (byte* start = text)
        {
            for (int i = 0, offset = 0; i < options.Count; i++)
            {
                pointers[i] = (nint)(start + offset);
                offset += Encoding.UTF8.GetByteCount(options[i]) + 1;
            }
            int result = nvrtcCompileProgram(program, options.Count, (byte**)pointers);
            if (result == CompilationError)
                return false;
            Check(result, "nvrtcCompileProgram");
            return true;
        }
    }

    public static string GetProgramLog(nint program)
    {
        nuint size;
        Check(nvrtcGetProgramLogSize(program, &size), "nvrtcGetProgramLogSize");
        var log = new byte[(int)size];
        fixed (byte* text = log)
            Check(nvrtcGetProgramLog(program, text), "nvrtcGetProgramLog");
        return Encoding.UTF8.GetString(log).TrimEnd('\0').Trim();
    }

    /// <summary>The compiled CUBIN (when compiled for a real sm_XX architecture).</summary>
    public static byte[] GetCubin(nint program)
    {
        nuint size;
        Check(nvrtcGetCUBINSize(program, &size), "nvrtcGetCUBINSize");
        var cubin = new byte[(int)size];
        fixed (byte* data = cubin)
            Check(nvrtcGetCUBIN(program, data), "nvrtcGetCUBIN");
        return cubin;
    }

    /// <summary>The PTX, with the terminating NUL that cuModuleLoadData needs to tell PTX text from a binary.</summary>
    public static byte[] GetPtx(nint program)
    {
        nuint size;
        Check(nvrtcGetPTXSize(program, &size), "nvrtcGetPTXSize");
        var ptx = new byte[(int)size];
        fixed (byte* data = ptx)
            Check(nvrtcGetPTX(program, data), "nvrtcGetPTX");
        return ptx;
    }

    private static void Check(int result, string call)
    {
        if (result != 0)
        {
            string name = Marshal.PtrToStringUTF8((nint)nvrtcGetErrorString(result)) ?? $"nvrtcResult {result}";
            throw new CudaException(call, result, name, "NVRTC");
        }
    }

    [LibraryImport(CudaLibraries.Nvrtc)]
    private static partial int nvrtcVersion(int* major, int* minor);

    [LibraryImport(CudaLibraries.Nvrtc)]
    private static partial int nvrtcGetNumSupportedArchs(int* count);

    [LibraryImport(CudaLibraries.Nvrtc)]
    private static partial int nvrtcGetSupportedArchs(int* architectures);

    [LibraryImport(CudaLibraries.Nvrtc, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int nvrtcCreateProgram(
        nint* program, string source, string name, int headerCount, byte** headers, byte** includeNames);

    [LibraryImport(CudaLibraries.Nvrtc)]
    private static partial int nvrtcDestroyProgram(nint* program);

    [LibraryImport(CudaLibraries.Nvrtc)]
    private static partial int nvrtcCompileProgram(nint program, int optionCount, byte** options);

    [LibraryImport(CudaLibraries.Nvrtc)]
    private static partial int nvrtcGetProgramLogSize(nint program, nuint* size);

    [LibraryImport(CudaLibraries.Nvrtc)]
    private static partial int nvrtcGetProgramLog(nint program, byte* log);

    [LibraryImport(CudaLibraries.Nvrtc)]
    private static partial int nvrtcGetCUBINSize(nint program, nuint* size);

    [LibraryImport(CudaLibraries.Nvrtc)]
    private static partial int nvrtcGetCUBIN(nint program, byte* cubin);

    [LibraryImport(CudaLibraries.Nvrtc)]
    private static partial int nvrtcGetPTXSize(nint program, nuint* size);

    [LibraryImport(CudaLibraries.Nvrtc)]
    private static partial int nvrtcGetPTX(nint program, byte* ptx);

    [LibraryImport(CudaLibraries.Nvrtc)]
    private static partial byte* nvrtcGetErrorString(int result);
}
