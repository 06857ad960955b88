using System.Runtime.InteropServices;

namespace Tern.Formats;

/// <summary>Little-endian array reads for the flat binary model formats, with truncation reported by file and field.</summary>
internal static class BinaryReads
{
    public static float[] Floats(Stream s, long count, string path, string field)
    {
        var a = new float[count];
        Exactly(s, MemoryMarshal.AsBytes(a.AsSpan()), path, field);
        return a;
    }

    public static void Exactly(Stream s, Span<byte> buffer, string path, string field)
    {
        try
        {
            s.ReadExactly(buffer);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{path}: file ends inside {field}", e);
        }
    }

    public static void Skip(Stream s, long bytes) => s.Seek(bytes, SeekOrigin.Current);
}
