namespace Tern.Formats;

/// <summary>
/// One tensor of a safetensors file as its header describes it. <see cref="DataBegin"/> and <see cref="DataEnd"/>
/// are relative to the start of the data section (the byte after the header), as in the file.
/// Shape is outermost first (PyTorch order): a linear layer's weight is [out, in].
/// </summary>
public sealed record SafetensorsTensorInfo(string Name, SafetensorsDType DType, long[] Shape, long DataBegin, long DataEnd)
{
    public long ByteSize => DataEnd - DataBegin;

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

    /// <summary>
    /// Rows as <see cref="SafetensorsFile.ReadRowsAsFloat"/> sees them: the outermost dimension, or 1 for a scalar
    /// or a 1-D tensor (a 1-D tensor is one row).
    /// </summary>
    public long RowCount => Shape.Length >= 2 ? Shape[0] : 1;

    /// <summary>Elements per row: the product of all dimensions but the outermost (all of them for 1-D).</summary>
    public long RowLength
    {
        get
        {
            if (Shape.Length < 2)
                return Shape.Length == 1 ? Shape[0] : 1;
            long n = 1;
            for (int i = 1; i < Shape.Length; i++)
                n = checked(n * Shape[i]);
            return n;
        }
    }

    /// <summary>Shape as PyTorch prints it, e.g. "[2560, 6912]".</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
