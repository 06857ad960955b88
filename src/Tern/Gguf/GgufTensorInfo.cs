namespace Tern.Gguf;

/// <summary>
/// One tensor of a GGUF file: its name, type, shape (innermost dimension first, as ggml's ne[]), its offset from the
/// start of the data section and its size in bytes.
/// </summary>
public sealed record GgufTensorInfo(string Name, GgmlType Type, long[] Shape, ulong Offset, long ByteSize)
{
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (var d in Shape)
                n = checked(n * d);
            return n;
        }
    }

    public GgmlTypeInfo TypeInfo => GgmlTypeTraits.Get(Type);

    /// <summary>Shape in ggml order (innermost first, as llama.cpp prints it), e.g. "2560 × 6912".</summary>
    public string ShapeText => string.Join(" × ", Shape);
}
